import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';

type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>['getAuthContext']>;
import { unauthenticated } from '@warden/errors';

export const SERVICE_KEY_HEADER = 'x-warden-service-key';

/**
 * Who is calling. With mTLS the client certificate's common name is the service name; without TLS
 * (dev and tests) a per-service key in `x-warden-service-key`, compared in constant time.
 */
export class ServiceAuthenticator {
  private readonly keys: Array<{ name: string; digest: Buffer }>;

  constructor(
    serviceKeys: Record<string, string>,
    private readonly mtls = false,
  ) {
    this.keys = Object.entries(serviceKeys).map(([name, key]) => ({ name, digest: digest(key) }));
  }

  identify(call: { getAuthContext?: () => AuthContext }, metadata: Metadata): string {
    if (this.mtls) {
      const name = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
      if (typeof name === 'string' && name) return name;
      throw unauthenticated(
        'SERVICE_IDENTITY_REQUIRED',
        'a client certificate naming the calling service is required',
      );
    }
    const presented = metadata.get(SERVICE_KEY_HEADER)[0];
    if (typeof presented === 'string' && presented) {
      const candidate = digest(presented);
      // Compare against every key so timing does not reveal which one (or none) matched.
      let match: string | undefined;
      for (const key of this.keys)
        if (timingSafeEqual(key.digest, candidate) && !match) match = key.name;
      if (match) return match;
    }
    throw unauthenticated('SERVICE_IDENTITY_REQUIRED', `a valid ${SERVICE_KEY_HEADER} is required`);
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
