import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  create,
  createFileRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type DescMethod,
  type JsonValue,
} from '@bufbuild/protobuf';
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import {
  Client,
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromServiceError } from '@warden/grpc';
import { authzv1, descriptorSetPath } from '@warden/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, check, codeOf, register, signIn } from '../support/flows.js';
import { call, GATEWAY_KEY, startStack, type Stack } from '../support/stack.js';

/**
 * README.md's grpcurl examples, checked without grpcurl (no package of it on the dev machine):
 * every command is parsed as the shell and grpcurl would read it, its target checked against the
 * descriptor set the servers serve for reflection, its `-d` body converted to the request message
 * with proto3 JSON as grpcurl does (both field name forms, enums by name, unknown fields refused),
 * and the account-lifecycle ones run against a real stack over @grpc/grpc-js.
 */

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

// ---------------------------------------------------------------------------------------------
// The shell, as far as the examples use it.

/** Words of a shell command line: quotes, `$VAR` in double quotes, `\` newlines, `#` comments. */
function shellWords(text: string, vars: Record<string, string>): string[] | 'incomplete' {
  const words: string[] = [];
  let word: string | undefined;
  const add = (s: string) => (word = (word ?? '') + s);
  const expand = (at: number): [string, number] => {
    const match = /^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/.exec(text.slice(at));
    if (!match) return ['$', at + 1];
    const name = match[1] ?? match[2]!;
    // An unset variable stays as written: `$OWNER_TOKEN` is the reader's placeholder.
    return [vars[name] ?? match[0], at + match[0].length];
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '\n') i += 2;
    else if (c === '\\' && i + 1 === text.length) return 'incomplete';
    else if (c === '\\') {
      add(text[i + 1]!);
      i += 2;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
      i++;
    } else if (c === '#' && word === undefined) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return 'incomplete';
      add(text.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      i++;
      let inner = '';
      for (;;) {
        if (i >= text.length) return 'incomplete';
        const d = text[i]!;
        if (d === '"') break;
        if (d === '\\' && /["\\$`]/.test(text[i + 1] ?? '')) {
          inner += text[i + 1];
          i += 2;
        } else if (d === '$') {
          const [value, next] = expand(i);
          inner += value;
          i = next;
        } else {
          inner += d;
          i++;
        }
      }
      add(inner);
      i++;
    } else if (c === '$') {
      const [value, next] = expand(i);
      add(value);
      i = next;
    } else {
      add(c);
      i++;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

interface Command {
  /** README line numbers (1-based) the command spans. */
  line: number;
  endLine: number;
  text: string;
  plaintext: boolean;
  headers: [string, string][];
  body?: string;
  protoFiles: string[];
  address: string;
  /** `list`, `describe` or a method call. */
  verb: 'list' | 'describe' | 'call';
  /** The service or symbol (`list`/`describe`), or `package.Service/Method`. */
  target?: string;
  /** The JSON keys of the `# {...}` answer shown right after the command, if any. */
  answerKeys?: string[];
}

const VALUE_FLAGS = new Set(['H', 'd', 'proto', 'import-path', 'protoset']);
const BOOL_FLAGS = new Set(['plaintext']);

function parseGrpcurl(words: string[], line: number, endLine: number, text: string): Command {
  if (words[0] !== 'grpcurl') throw new Error(`line ${line}: not a grpcurl command`);
  const command: Command = {
    line,
    endLine,
    text,
    plaintext: false,
    headers: [],
    protoFiles: [],
    address: '',
    verb: 'call',
  };
  const positional: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('-')) {
      positional.push(word);
      continue;
    }
    const [flag, inline] = word.replace(/^--?/, '').split(/=(.*)/s) as [string, string?];
    if (BOOL_FLAGS.has(flag)) {
      if (inline !== undefined && inline !== 'true')
        throw new Error(`line ${line}: -${flag}=${inline}`);
      command.plaintext = true;
      continue;
    }
    if (!VALUE_FLAGS.has(flag)) throw new Error(`line ${line}: unknown grpcurl flag ${word}`);
    const value = inline ?? words[++i];
    if (value === undefined) throw new Error(`line ${line}: -${flag} without a value`);
    if (flag === 'H') {
      const match = /^([^:\s]+):\s*(.*)$/s.exec(value);
      if (!match)
        throw new Error(`line ${line}: header ${JSON.stringify(value)} is not "name: value"`);
      command.headers.push([match[1]!, match[2]!]);
    } else if (flag === 'd') command.body = value;
    else if (flag === 'proto') command.protoFiles.push(value);
    else throw new Error(`line ${line}: -${flag} is not something these checks know`);
  }
  const [address, verbOrTarget, symbol, ...extra] = positional;
  if (!address || !verbOrTarget) throw new Error(`line ${line}: no address and target`);
  command.address = address;
  if (verbOrTarget === 'list' || verbOrTarget === 'describe') {
    command.verb = verbOrTarget;
    if (symbol !== undefined) command.target = symbol;
    if (verbOrTarget === 'describe' && symbol === undefined)
      throw new Error(`line ${line}: describe without a symbol`);
    if (extra.length > 0) throw new Error(`line ${line}: extra words ${extra.join(' ')}`);
  } else {
    if (symbol !== undefined) throw new Error(`line ${line}: extra words after the method`);
    if (!/^[\w.]+\/\w+$/.test(verbOrTarget))
      throw new Error(`line ${line}: ${verbOrTarget} is not package.Service/Method`);
    command.target = verbOrTarget;
  }
  return command;
}

/** Every grpcurl command of the README: in ```sh blocks (with their `H=...` variables) and inline. */
function readmeCommands(markdown: string): { commands: Command[]; failures: string[] } {
  const lines = markdown.split('\n');
  const commands: Command[] = [];
  const failures: string[] = [];
  let inShell = false;
  let inFence = false;
  // Variables hold across blocks, as in the reader's shell (`H=...` is set once, used further on).
  const vars: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*```(\w*)/.exec(line);
    if (fence) {
      inFence = !inFence;
      inShell = inFence && fence[1] === 'sh';
      continue;
    }
    if (inShell) {
      const assignment = /^([A-Za-z_]\w*)=(.*)$/.exec(line);
      if (assignment) {
        const words = shellWords(assignment[2]!, vars);
        if (words === 'incomplete' || words.length !== 1)
          failures.push(`line ${i + 1}: cannot read the assignment`);
        else vars[assignment[1]!] = words[0]!;
        continue;
      }
      if (!/^\s*grpcurl\s/.test(line)) continue;
      // Lines until the shell has a whole command: no open quote, no trailing backslash.
      let text = line;
      let end = i;
      let words = shellWords(text, vars);
      while (words === 'incomplete' && end + 1 < lines.length && !/^\s*```/.test(lines[end + 1]!)) {
        text += '\n' + lines[++end];
        words = shellWords(text, vars);
      }
      try {
        if (words === 'incomplete') throw new Error(`line ${i + 1}: the command never ends`);
        const command = parseGrpcurl(words, i + 1, end + 1, text);
        const answer = /^#\s*(\{.*)$/.exec(lines[end + 1] ?? '');
        if (answer) command.answerKeys = [...answer[1]!.matchAll(/"(\w+)"\s*:/g)].map((m) => m[1]!);
        commands.push(command);
      } catch (error) {
        failures.push((error as Error).message);
      }
      i = end;
    } else if (!inFence) {
      for (const span of line.matchAll(/`(grpcurl\s[^`]*)`/g)) {
        const words = shellWords(span[1]!, {});
        try {
          if (words === 'incomplete') throw new Error(`line ${i + 1}: unbalanced quotes`);
          commands.push(parseGrpcurl(words, i + 1, i + 1, span[1]!));
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    }
  }
  return { commands, failures };
}

// ---------------------------------------------------------------------------------------------
// The schema grpcurl would see.

const descriptorSet = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath));

/** grpc/health/v1/health.proto, which grpcurl reads with `-proto health.proto`. */
const healthProto: FileDescriptorProto = create(FileDescriptorProtoSchema, {
  name: 'health.proto',
  package: 'grpc.health.v1',
  syntax: 'proto3',
  messageType: [
    {
      name: 'HealthCheckRequest',
      field: [
        {
          name: 'service',
          jsonName: 'service',
          number: 1,
          type: FieldDescriptorProto_Type.STRING,
          label: FieldDescriptorProto_Label.OPTIONAL,
        },
      ],
    },
    {
      name: 'HealthCheckResponse',
      field: [
        {
          name: 'status',
          jsonName: 'status',
          number: 1,
          type: FieldDescriptorProto_Type.ENUM,
          typeName: '.grpc.health.v1.HealthCheckResponse.ServingStatus',
          label: FieldDescriptorProto_Label.OPTIONAL,
        },
      ],
      enumType: [
        {
          name: 'ServingStatus',
          value: [
            { name: 'UNKNOWN', number: 0 },
            { name: 'SERVING', number: 1 },
            { name: 'NOT_SERVING', number: 2 },
            { name: 'SERVICE_UNKNOWN', number: 3 },
          ],
        },
      ],
    },
  ],
  service: [
    {
      name: 'Health',
      method: [
        {
          name: 'Check',
          inputType: '.grpc.health.v1.HealthCheckRequest',
          outputType: '.grpc.health.v1.HealthCheckResponse',
        },
      ],
    },
  ],
});

/** What the servers' reflection knows (the descriptor set) and health.proto for `-proto`. */
const reflected = createFileRegistry(descriptorSet);
const everything = createFileRegistry(
  reflected,
  createFileRegistry(healthProto, () => undefined),
);

const SERVICE_OF = {
  user: 'warden.user.v1.UserService',
  session: 'warden.session.v1.SessionService',
  authz: 'warden.authz.v1.AuthzService',
} as const;
type Warden = keyof typeof SERVICE_OF;

/** The dev ports the README uses: gRPC (with reflection) and the k8s base's health-only ports. */
const PORTS: Record<string, { service: Warden; healthOnly: boolean }> = {
  '50051': { service: 'user', healthOnly: false },
  '50052': { service: 'session', healthOnly: false },
  '50053': { service: 'authz', healthOnly: false },
  '50061': { service: 'user', healthOnly: true },
  '50062': { service: 'session', healthOnly: true },
  '50063': { service: 'authz', healthOnly: true },
};

const portOf = (command: Command) => PORTS[/^127\.0\.0\.1:(\d+)$/.exec(command.address)?.[1] ?? ''];

function methodOf(target: string): DescMethod | undefined {
  const [service, name] = target.split('/') as [string, string];
  return everything.getService(service)?.methods.find((m) => m.name === name);
}

/** Every JSON field name (both forms) of a message and the messages under it. */
function jsonNames(message: DescMessage, seen = new Set<DescMessage>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(message)) return names;
  seen.add(message);
  for (const field of message.fields) {
    names.add(field.jsonName).add(field.name);
    const nested =
      field.fieldKind === 'message'
        ? field.message
        : field.fieldKind === 'list' || field.fieldKind === 'map'
          ? field.message
          : undefined;
    if (nested) for (const name of jsonNames(nested, seen)) names.add(name);
  }
  return names;
}

/** What grpcurl would refuse, or a target not served where the command sends it. */
function problems(command: Command): string[] {
  const found: string[] = [];
  const where = `line ${command.line}`;
  const port = portOf(command);
  if (!port) found.push(`${where}: address ${command.address} is none of the dev ports`);
  if (!command.plaintext) found.push(`${where}: no -plaintext (the dev servers have no TLS)`);
  for (const [name, value] of command.headers) {
    if (name === 'x-warden-service-key') {
      if (value !== GATEWAY_KEY) found.push(`${where}: service key ${value} is not the dev key`);
    } else if (name === 'authorization') {
      if (!/^Bearer \S/.test(value)) found.push(`${where}: authorization ${value} is not Bearer`);
    } else found.push(`${where}: unexpected header ${name}`);
  }
  const usesReflection = command.protoFiles.length === 0;
  for (const file of command.protoFiles)
    if (file !== healthProto.name) found.push(`${where}: -proto ${file} is not health.proto`);
  if (usesReflection) {
    // Reflection needs a service identity like every RPC; the health-only ports have none.
    if (!command.headers.some(([name]) => name === 'x-warden-service-key'))
      found.push(`${where}: reflection without x-warden-service-key is UNAUTHENTICATED`);
    if (port?.healthOnly) found.push(`${where}: the health-only port serves no reflection`);
  }
  const served = port && !port.healthOnly ? SERVICE_OF[port.service] : undefined;
  if (command.verb !== 'call') {
    if (command.body !== undefined) found.push(`${where}: -d on ${command.verb}`);
    if (command.target !== undefined) {
      const symbol = command.target;
      if (!reflected.getService(symbol) && !reflected.get(symbol))
        found.push(`${where}: ${symbol} is not in the descriptor set`);
      else if (served && !symbol.startsWith(served.replace(/\.\w+$/, '.')))
        found.push(`${where}: ${symbol} is not served on ${command.address}`);
    }
    return found;
  }
  const [serviceName] = command.target!.split('/') as [string];
  const method = methodOf(command.target!);
  if (!method) {
    found.push(`${where}: ${command.target} does not exist`);
    return found;
  }
  if (serviceName === 'grpc.health.v1.Health') {
    if (usesReflection) found.push(`${where}: reflection does not describe grpc.health.v1`);
  } else if (serviceName !== served)
    found.push(`${where}: ${serviceName} is not served on ${command.address}`);
  try {
    fromJson(method.input, JSON.parse(command.body ?? '{}') as JsonValue, {
      registry: everything,
    });
  } catch (error) {
    found.push(`${where}: ${method.input.typeName}: ${(error as Error).message}`);
  }
  if (command.answerKeys) {
    const known = jsonNames(method.output);
    for (const key of command.answerKeys)
      if (!known.has(key)) found.push(`${where}: the answer shown has ${key}, not a field`);
  }
  return found;
}

const { commands, failures } = readmeCommands(README);
const commandLines = README.split('\n').flatMap((line, i) =>
  /\bgrpcurl\s+-/.test(line) ? [i + 1] : [],
);

describe('README grpcurl examples, read as grpcurl reads them', () => {
  // The name says how many were checked, and where: vitest prints it.
  it(`parses all ${commands.length} grpcurl commands of README.md, none skipped (lines ${commands
    .map((c) => c.line)
    .join(', ')})`, () => {
    expect(failures).toEqual([]);
    expect(commands.map((c) => c.line)).toEqual(commandLines);
    expect(commands.length).toBeGreaterThanOrEqual(21);
  });

  it('names services and methods that exist, where they are served, with bodies grpcurl accepts', () => {
    expect(commands.flatMap(problems)).toEqual([]);
  });

  it('reads the shell as the shell does: continuations, variables, multi-line bodies', () => {
    const words = shellWords(
      `grpcurl -H "$H" -H 'b: $H' \\\n  -d '{\n "a": 1\n}' host x/Y # note`,
      { H: 'k: v' },
    );
    expect(words).toEqual([
      'grpcurl',
      '-H',
      'k: v',
      '-H',
      'b: $H',
      '-d',
      '{\n "a": 1\n}',
      'host',
      'x/Y',
    ]);
    expect(shellWords(`grpcurl -d '{"a":`, {})).toBe('incomplete');
    expect(shellWords('grpcurl a \\', {})).toBe('incomplete');
  });

  // The checks refuse what grpcurl refuses: each kind of mistake an example could make.
  const refusals: [string, string, RegExp][] = [
    [
      'an unknown field',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{"email":"a@b.c","passwd":"x"}' 127.0.0.1:50051 warden.user.v1.UserService/RequestPasswordReset`,
      /passwd/,
    ],
    [
      'an enum by a name it does not have',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{"subject_id":"u","permission":"p","assurance_level":"AAL1"}' 127.0.0.1:50053 warden.authz.v1.AuthzService/CheckPermission`,
      /AAL1/,
    ],
    [
      'a method that does not exist',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{}' 127.0.0.1:50051 warden.user.v1.UserService/ResetEmail`,
      /does not exist/,
    ],
    [
      'a method sent to another service',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{}' 127.0.0.1:50051 warden.session.v1.SessionService/StartSession`,
      /not served on/,
    ],
    [
      'reflection without a service key',
      `grpcurl -plaintext -d '{}' 127.0.0.1:50051 warden.user.v1.UserService/GetUser`,
      /UNAUTHENTICATED/,
    ],
    [
      'health through reflection',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{"service":""}' 127.0.0.1:50051 grpc.health.v1.Health/Check`,
      /reflection does not describe grpc.health.v1/,
    ],
    [
      'an answer with a field the response does not have',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{"email":"a@b.c"}' 127.0.0.1:50051 warden.user.v1.UserService/RequestPasswordReset\n# {"code": "…", "expiresAt": "…"}`,
      /expiresAt/,
    ],
    [
      'a body that is not JSON',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{email}' 127.0.0.1:50051 warden.user.v1.UserService/GetUser`,
      /JSON/,
    ],
    [
      'an elided address',
      `grpcurl -plaintext -H 'x-warden-service-key: ${GATEWAY_KEY}' -d '{}' … warden.user.v1.UserService/GetUser`,
      /none of the dev ports/,
    ],
  ];
  it.each(refusals)('refuses %s', (_, example, reason) => {
    const { commands: parsed, failures: none } = readmeCommands('```sh\n' + example + '\n```\n');
    expect(none).toEqual([]);
    expect(parsed).toHaveLength(1);
    expect(problems(parsed[0]!).join('\n')).toMatch(reason);
  });

  it('refuses a command it cannot parse instead of skipping it', () => {
    for (const broken of [
      'grpcurl -plaintext -d \'{"a":1} 127.0.0.1:50051 x.Y/Z',
      'grpcurl -plaintext -max-time 3 127.0.0.1:50051 x.Y/Z',
      'grpcurl -plaintext 127.0.0.1:50051',
      "grpcurl -plaintext -H 'no-colon' 127.0.0.1:50051 x.Y/Z",
    ])
      expect(readmeCommands('```sh\n' + broken + '\n```\n').failures).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Against a real stack.

let stack: Stack;
let adminToken: string;

/** The README's address for the stack's, by port. */
function addressFor(command: Command): string {
  const port = portOf(command)!;
  return port.healthOnly ? stack.healthAddresses[port.service] : stack.addresses[port.service];
}

const replaceAll = (text: string, substitutions: [string, string][]) =>
  substitutions.reduce((s, [from, to]) => s.split(from).join(to), text);

/** README lines of the commands sent to the stack. */
const ran = new Set<number>();

interface Answer {
  code: number;
  reason?: string;
  /** The fields of a BadRequest's violations. */
  violations?: string[];
  json?: Record<string, unknown>;
}

/** The command as grpcurl would send it, with the README's placeholders filled in. */
function run(command: Command, substitutions: [string, string][] = []): Promise<Answer> {
  ran.add(command.line);
  const method = methodOf(command.target!)!;
  const request = fromJson(
    method.input,
    JSON.parse(replaceAll(command.body ?? '{}', substitutions)) as JsonValue,
    { registry: everything },
  );
  const metadata = new Metadata();
  for (const [name, value] of command.headers) metadata.add(name, replaceAll(value, substitutions));
  const client = new Client(addressFor(command), credentials.createInsecure());
  return new Promise<Answer>((resolve) => {
    client.makeUnaryRequest(
      `/${command.target}`,
      () => Buffer.from(toBinary(method.input, request)),
      (bytes: Buffer) => fromBinary(method.output, bytes),
      request,
      metadata,
      (error: ServiceError | null, response?: unknown) => {
        client.close();
        if (error) {
          const failure = fromServiceError(error);
          resolve({
            code: error.code,
            reason: failure.reason,
            violations: failure.violations.map((v) => v.field),
          });
        } else
          resolve({
            code: status.OK,
            json: toJson(method.output, response as never, { registry: everything }) as Record<
              string,
              unknown
            >,
          });
      },
    );
  });
}

const commandFor = (target: string, has = ''): Command => {
  const found = commands.filter((c) => c.target === target && c.text.includes(has));
  if (found.length !== 1) throw new Error(`${found.length} README commands for ${target} ${has}`);
  return found[0]!;
};

// grpc.reflection.v1 as grpcurl speaks it.
const ServerReflection = makeGenericClientConstructor(
  {
    serverReflectionInfo: {
      path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      requestStream: true,
      responseStream: true,
      requestSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: (bytes: Buffer) => bytes,
      responseDeserialize: (bytes: Buffer) => bytes,
    },
  },
  'ServerReflection',
);

/** One reflection request (field 7 list_services, or 4 file_containing_symbol): its answer. */
function reflect(command: Command, request: Uint8Array): Promise<Buffer> {
  ran.add(command.line);
  const client = new ServerReflection(
    addressFor(command),
    credentials.createInsecure(),
  ) as unknown as Client & {
    serverReflectionInfo(metadata: Metadata): ClientDuplexStream<Uint8Array, Buffer>;
  };
  const metadata = new Metadata();
  for (const [name, value] of command.headers) metadata.add(name, value);
  const stream = client.serverReflectionInfo(metadata);
  return new Promise<Buffer>((resolve, reject) => {
    stream.on('data', resolve);
    stream.on('error', reject);
    stream.write(request);
  }).finally(() => {
    stream.end();
    client.close();
  });
}

/** The length-delimited fields numbered `field` of a message. */
function fieldsOf(message: Uint8Array, field: number): Uint8Array[] {
  const reader = new BinaryReader(message);
  const found: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const [number, wireType] = reader.tag();
    if (number === field && wireType === WireType.LengthDelimited) found.push(reader.bytes());
    else reader.skip(wireType);
  }
  return found;
}

const listServicesRequest = () =>
  new BinaryWriter().tag(7, WireType.LengthDelimited).string('').finish();
const symbolRequest = (symbol: string) =>
  new BinaryWriter().tag(4, WireType.LengthDelimited).string(symbol).finish();

describe('README grpcurl examples against a real stack', () => {
  beforeAll(async () => {
    stack = await startStack();
    adminToken = (await bootstrapAdmin(stack)).token;
  }, 180_000);

  afterAll(() => stack?.stop(), 60_000);

  it('list: reflection names the service the examples call on that port', async () => {
    const command = commands.find((c) => c.verb === 'list')!;
    const answer = await reflect(command, listServicesRequest());
    const names = fieldsOf(answer, 6)
      .flatMap((list) => fieldsOf(list, 1))
      .flatMap((service) => fieldsOf(service, 1))
      .map((name) => new TextDecoder().decode(name));
    expect(names).toEqual([SERVICE_OF[portOf(command)!.service]]);
  });

  it('describe: reflection answers the service with the methods of the descriptor set', async () => {
    const command = commands.find((c) => c.verb === 'describe')!;
    const answer = await reflect(command, symbolRequest(command.target!));
    const files = fieldsOf(answer, 4)
      .flatMap((response) => fieldsOf(response, 1))
      .map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
    const [, serviceName] = /\.(\w+)$/.exec(command.target!)!;
    const service = files.flatMap((f) => f.service).find((s) => s.name === serviceName);
    expect(service?.method.map((m) => m.name)).toEqual(
      reflected.getService(command.target!)!.methods.map((m) => m.name),
    );
  });

  it('grpc.health.v1 is not in reflection (hence -proto health.proto), and Check answers SERVING', async () => {
    const user = commands.find((c) => c.verb === 'list')!;
    const unknown = await reflect(user, symbolRequest('grpc.health.v1.Health'));
    // ServerReflectionResponse.error_response(7).error_code(1): NOT_FOUND.
    const [error] = fieldsOf(unknown, 7);
    expect(error).toBeDefined();
    const reader = new BinaryReader(error!);
    expect(reader.tag()).toEqual([1, WireType.Varint]);
    expect(reader.int32()).toBe(status.NOT_FOUND);

    const checks = commands.filter((c) => c.target === 'grpc.health.v1.Health/Check');
    expect(checks.length).toBeGreaterThanOrEqual(2);
    for (const check of checks)
      expect(await run(check), `line ${check.line}`).toEqual({
        code: status.OK,
        json: { status: 'SERVING' },
      });
  });

  it('RegisterUser, email verification and password reset run as written', async () => {
    const email = `ada-${stack.prefix}@example.com`;
    const registered = await run(commandFor('warden.user.v1.UserService/RegisterUser'), [
      ['ada@example.com', email],
    ]);
    expect(registered.code).toBe(status.OK);
    const userId = (registered.json!.user as { id: string }).id;
    const asAda: [string, string][] = [
      ['ada@example.com', email],
      ['<user-uuid>', userId],
    ];

    const issued = await run(
      commandFor('warden.user.v1.UserService/RequestEmailVerification'),
      asAda,
    );
    expect(issued).toMatchObject({ code: status.OK, json: { code: expect.any(String) } });
    expect(Object.keys(issued.json!).sort()).toEqual(['code', 'expireTime']);
    // As written (a placeholder code): the service reads it and refuses the code, nothing else.
    expect(await run(commandFor('warden.user.v1.UserService/VerifyEmail'), asAda)).toMatchObject({
      code: status.INVALID_ARGUMENT,
      reason: 'INVALID_CODE',
    });
    const verified = await run(commandFor('warden.user.v1.UserService/VerifyEmail'), [
      ...asAda,
      ['Zq3…', issued.json!.code as string],
    ]);
    expect(verified).toMatchObject({ code: status.OK, json: { user: { emailVerified: true } } });
    // Asking again: FAILED_PRECONDITION EMAIL_ALREADY_VERIFIED, as the README lists it.
    expect(
      await run(commandFor('warden.user.v1.UserService/RequestEmailVerification'), asAda),
    ).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'EMAIL_ALREADY_VERIFIED' });

    const reset = await run(commandFor('warden.user.v1.UserService/RequestPasswordReset'), asAda);
    expect(reset.code).toBe(status.OK);
    expect(Object.keys(reset.json!).sort()).toEqual(['code', 'expireTime']);
    // The placeholder code is the wrong one, refused without spending the right one... once.
    const wrong = await run(commandFor('warden.user.v1.UserService/ResetPassword'), asAda);
    expect(wrong).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_CODE' });
    const done = await run(commandFor('warden.user.v1.UserService/ResetPassword'), [
      ...asAda,
      ['"code":"…"', `"code":${JSON.stringify(reset.json!.code)}`],
    ]);
    expect(done.code).toBe(status.OK);
    // An unknown email: the same answer without a code.
    const unknown = await run(commandFor('warden.user.v1.UserService/RequestPasswordReset'), [
      ['ada@example.com', `nobody-${stack.prefix}@example.com`],
    ]);
    expect(unknown.code).toBe(status.OK);
    expect(Object.keys(unknown.json!)).toEqual(['expireTime']);
  });

  it('TOTP: enrol, confirm, StartSession gives a challenge, CompleteMfa an AAL2 session, remove', async () => {
    const email = `ada-mfa-${stack.prefix}@example.com`;
    const user = await register(stack, email);
    const { token } = await signIn(stack, email);
    const asAda: [string, string][] = [
      ['ada@example.com', email],
      ['<user-uuid>', user.id],
      ["<the user's session token>", token],
    ];
    const enrolled = await run(commandFor('warden.user.v1.UserService/EnrollTotp'), asAda);
    expect(enrolled.code).toBe(status.OK);
    const secret = enrolled.json!.secret as string;
    const confirmed = await run(commandFor('warden.user.v1.UserService/ConfirmTotp'), [
      ...asAda,
      ['"code":"123456"', `"code":"${codeOf(secret)}"`],
    ]);
    expect(confirmed.code).toBe(status.OK);
    const recoveryCodes = confirmed.json!.recoveryCodes as string[];
    expect(recoveryCodes).toHaveLength(10);

    const started = await run(commandFor('warden.session.v1.SessionService/StartSession'), asAda);
    expect(started.code).toBe(status.OK);
    expect(Object.keys(started.json!)).toEqual(['mfaChallenge']);
    const challenge = started.json!.mfaChallenge as { id: string };
    expect(challenge.id).toMatch(/^wmc_/);

    // As written, the placeholder challenge id is the one thing the service refuses.
    const completeMfa = commandFor('warden.session.v1.SessionService/CompleteMfa');
    const asWritten = await run(completeMfa);
    expect(asWritten).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(asWritten.violations).toEqual(['challenge_id']);
    const completed = await run(completeMfa, [
      ['wmc_…', challenge.id],
      ['"654321"', `"${codeOf(secret, 1)}"`],
    ]);
    expect(completed).toMatchObject({
      code: status.OK,
      json: {
        session: {
          factors: ['FACTOR_PASSWORD', 'FACTOR_TOTP'],
          assuranceLevel: 'ASSURANCE_LEVEL_AAL2',
        },
        token: expect.stringMatching(/^wst_/),
      },
    });

    const removed = await run(commandFor('warden.user.v1.UserService/RemoveTotp'), [
      ...asAda,
      ['<AAL2 token>', completed.json!.token as string],
      ['k3h9-2vxa-…', recoveryCodes[0]!],
    ]);
    expect(removed.code).toBe(status.OK);
  });

  it('ImportUsers, metadata and step-up examples run with an admin token', async () => {
    const asAdmin: [string, string][] = [
      ['<admin token>', adminToken],
      ['ada@example.com', `ada-import-${stack.prefix}@example.com`],
      ['bob@example.com', `bob-import-${stack.prefix}@example.com`],
    ];
    const imported = await run(commandFor('warden.user.v1.UserService/ImportUsers'), asAdmin);
    expect(imported.code).toBe(status.OK);
    const results = imported.json!.results as Record<string, unknown>[];
    expect(results[0]).toEqual({ userId: expect.any(String) });
    expect(results[1]).toMatchObject({ index: 1, errorReason: 'INVALID_HASH' });
    const userId = results[0]!.userId as string;
    const withUser: [string, string][] = [...asAdmin, ['<user-uuid>', userId]];

    const updated = await run(commandFor('warden.user.v1.UserService/UpdateUser'), withUser);
    expect(updated).toMatchObject({
      code: status.OK,
      json: { user: { externalId: 'crm-7', metadata: { 'public.team': 'red', tier: '3' } } },
    });
    const byMetadata = await run(
      commandFor('warden.user.v1.UserService/ListUsers', 'page_size'),
      withUser,
    );
    expect(byMetadata.code).toBe(status.OK);
    expect((byMetadata.json!.users as { id: string }[]).map((u) => u.id)).toEqual([userId]);
    const byExternalId = await run(
      commandFor('warden.user.v1.UserService/ListUsers', 'crm-7'),
      withUser,
    );
    expect((byExternalId.json!.users as { id: string }[]).map((u) => u.id)).toEqual([userId]);

    expect(
      await run(commandFor('warden.authz.v1.AuthzService/CreateRole'), withUser),
    ).toMatchObject({ code: status.OK });
    // The comment's answer once the user holds the role unscoped: step-up, not a plain denial.
    await call<Partial<authzv1.AssignRoleRequest>, authzv1.AssignRoleResponse>(
      stack.authz,
      'assignRole',
      { subjectId: userId, role: 'careful-admin', requestId: randomUUID() },
      adminToken,
    );
    const checked = await run(commandFor('warden.authz.v1.AuthzService/CheckPermission'), withUser);
    expect(checked).toMatchObject({
      code: status.OK,
      json: {
        reason: 'user.delete@aal2 needs a session completed with a second factor (AAL2)',
        stepUpRequired: true,
      },
    });
    expect(checked.json!.allowed ?? false).toBe(false);

    // A role on one scope, as the guild owner's example assigns it (the admin holds `*`).
    await call<Partial<authzv1.CreateRoleRequest>, authzv1.CreateRoleResponse>(
      stack.authz,
      'createRole',
      { role: { name: 'moderator', permissions: ['guild.ban'] } as authzv1.Role },
      adminToken,
    );
    const assigned = await run(commandFor('warden.authz.v1.AuthzService/AssignRole'), [
      ['$OWNER_TOKEN', adminToken],
      ['0190…ada', userId],
    ]);
    expect(assigned.code).toBe(status.OK);
    const on42 = await check(stack, userId, 'guild.ban', { type: 'guild', id: '42', ownerId: '' });
    expect(on42).toMatchObject({
      allowed: true,
      reason: 'role moderator on guild:42 grants guild.ban',
    });
    const on43 = await check(stack, userId, 'guild.ban', { type: 'guild', id: '43', ownerId: '' });
    expect(on43).toMatchObject({
      allowed: false,
      reason: 'role moderator grants guild.ban only on guild:42',
    });
  });

  it('has sent every README command to the stack', () => {
    expect([...ran].sort((a, b) => a - b)).toEqual(commandLines);
  });
});
