import { EventEmitter } from 'node:events';
import type {
  MethodDefinition,
  Server,
  ServerDuplexStream,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { invalidArgument } from '@warden/errors';

/** grpc.reflection's two published versions; their one method is the same bidi stream. */
const REFLECTION_SERVICES = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
] as const;

/** What a ReflectionService handler is given: the stream's messages, decoded, and a way back. */
interface ReflectionStream extends EventEmitter {
  write(message: unknown): void;
  end(): void;
}

interface ServedMethod {
  decode(request: Buffer): unknown;
  encode(response: unknown): Buffer;
  handler: (stream: ReflectionStream) => void;
}

const asIs = (bytes: Buffer): Buffer => bytes;

/**
 * grpc.reflection v1 and v1alpha, loaded at the first call. @grpc/reflection parses its own .proto
 * files with protobufjs when a server adds it, and parsing and indexing the descriptor set costs
 * about 18 MB of RSS more: together a fifth of a server's start (0.2 s of CPU) that only grpcurl
 * and its like ever use. Until then the server registers the methods with their bytes as they
 * are; the first call loads the package, and each message is decoded and answered by its
 * handlers, through the codecs it would have registered itself.
 */
export class LazyReflection {
  private loaded: Promise<Map<string, ServedMethod>> | undefined;

  constructor(
    private readonly descriptorSet: Buffer,
    /** The services to describe (the server's own), read at the first call. */
    private readonly services: () => string[],
  ) {}

  /** The definitions to add to the server, each with its method's path. */
  definitions(): Array<{ definition: ServiceDefinition; path: string }> {
    return REFLECTION_SERVICES.map((service) => {
      const path = `/${service}/ServerReflectionInfo`;
      const method: MethodDefinition<Buffer, Buffer> = {
        path,
        requestStream: true,
        responseStream: true,
        requestSerialize: asIs,
        requestDeserialize: asIs,
        responseSerialize: asIs,
        responseDeserialize: asIs,
      };
      return { definition: { ServerReflectionInfo: method }, path };
    });
  }

  /**
   * Answers one call on `path`. Messages that arrive while the package loads wait in order;
   * `fail` ends the call (a request that does not decode, a descriptor set that does not load).
   */
  serve(
    path: string,
    call: ServerDuplexStream<Buffer, Buffer>,
    fail: (error: unknown) => void,
  ): void {
    const stream = new EventEmitter() as ReflectionStream;
    const waiting: Array<Buffer | 'end'> = [];
    let method: ServedMethod | undefined;
    let failed = false;
    const deliver = (served: ServedMethod, chunk: Buffer | 'end') => {
      if (failed) return;
      if (chunk === 'end') {
        stream.emit('end');
        return;
      }
      let request: unknown;
      try {
        request = served.decode(chunk);
      } catch {
        failed = true;
        fail(
          invalidArgument([
            { field: 'message', description: 'is not a grpc.reflection ServerReflectionRequest' },
          ]),
        );
        return;
      }
      stream.emit('data', request);
    };
    call.on('data', (chunk: Buffer) => (method ? deliver(method, chunk) : waiting.push(chunk)));
    call.on('end', () => (method ? deliver(method, 'end') : waiting.push('end')));
    // Whatever fails here (the load, or the handlers on the messages that waited) ends this call:
    // nothing is left as an unhandled rejection, which would end the process.
    this.load()
      .then((methods) => {
        const served = methods.get(path);
        if (!served) throw new Error(`no reflection method ${path}`);
        stream.write = (message) => call.write(served.encode(message));
        stream.end = () => call.end();
        served.handler(stream);
        method = served;
        for (const chunk of waiting.splice(0)) deliver(served, chunk);
      })
      .catch((error: unknown) => {
        failed = true;
        fail(error);
      });
  }

  private load(): Promise<Map<string, ServedMethod>> {
    return (this.loaded ??= (async () => {
      const [{ ReflectionService }, { loadFileDescriptorSetFromBuffer }] = await Promise.all([
        import('@grpc/reflection'),
        import('@grpc/proto-loader'),
      ]);
      const service = new ReflectionService(loadFileDescriptorSetFromBuffer(this.descriptorSet), {
        services: this.services(),
      });
      const methods = new Map<string, ServedMethod>();
      const recorder = {
        addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation) {
          for (const [key, method] of Object.entries(definition))
            methods.set(method.path, {
              decode: method.requestDeserialize,
              encode: method.responseSerialize,
              handler: implementation[key] as ServedMethod['handler'],
            });
        },
      };
      service.addToServer(recorder as unknown as Server);
      return methods;
    })());
  }
}
