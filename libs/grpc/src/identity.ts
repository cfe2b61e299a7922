import { hash, timingSafeEqual } from 'node:crypto';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';

type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>['getAuthContext']>;
import { unauthenticated } from '@warden/errors';

export const SERVICE_KEY_HEADER = 'x-warden-service-key';

/**
 * Who is calling. With mTLS the client certificate's common name is the service name, if it is one
 * of `allowedServices` (the CA may sign other certificates); without TLS (dev and tests) a
 * per-service key in `x-warden-service-key`, compared in constant time.
 */
export class ServiceAuthenticator {
  private readonly keys: Array<{ name: string; digest: Buffer }>;
  private readonly allowed: ReadonlySet<string>;

  constructor(
    serviceKeys: Record<string, string | readonly string[]>,
    private readonly mtls = false,
    allowedServices: readonly string[] = [],
  ) {
    this.keys = Object.entries(serviceKeys).flatMap(([name, keys]) =>
      (typeof keys === 'string' ? [keys] : keys).map((key) => ({ name, digest: digest(key) })),
    );
    this.allowed = new Set(allowedServices);
    if (mtls && this.allowed.size === 0)
      throw new Error('mTLS needs auth.allowed_services: no certificate would be accepted');
  }

  identify(call: { getAuthContext?: () => AuthContext }, metadata: Metadata): string {
    if (this.mtls) {
      const name = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
      // One refusal for no certificate, several CNs and an unlisted CN: the caller learns nothing.
      if (typeof name === 'string' && this.allowed.has(name)) return name;
      throw unauthenticated(
        'SERVICE_IDENTITY_REQUIRED',
        'a client certificate naming an allowed service is required',
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

/** One-shot hashing: no Hash object per call. */
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');
