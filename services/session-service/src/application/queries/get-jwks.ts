import { type Access, type UseCase } from '@warden/bus';
import type { AccessTokenIssuer, PublicJwk } from '../access-tokens.js';

/** The keys verifying access tokens; none while access tokens are off. Any service may ask. */
export class GetJwksHandler implements UseCase<Record<string, never>, readonly PublicJwk[]> {
  readonly name = 'GetJwks';
  readonly readOnly = true;
  readonly access: Access<Record<string, never>> = { kind: 'service' };

  constructor(private readonly issuer: AccessTokenIssuer | undefined) {}

  async execute(): Promise<readonly PublicJwk[]> {
    return this.issuer?.publicKeys() ?? [];
  }
}
