import { Secret, TOTP } from 'otpauth';
import type { TotpAlgorithm } from '../../application/ports.js';

const PERIOD_S = 30;
const DIGITS = 6;
/** Codes of the step before and after the current one still match (clock drift, typing time). */
const DRIFT_STEPS = 1;
/** 160-bit secrets, as RFC 4226 recommends for HMAC-SHA-1. */
const SECRET_BYTES = 20;

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s: what every authenticator app reads) through `otpauth`. */
export class OtpauthTotp implements TotpAlgorithm {
  constructor(private readonly issuer: string) {}

  newSecret(): string {
    return new Secret({ size: SECRET_BYTES }).base32;
  }

  uri(secret: string, account: string): string {
    return this.totp(secret, account).toString();
  }

  match(secret: string, code: string, now: Date): number | undefined {
    const timestamp = now.getTime();
    const delta = this.totp(secret).validate({ token: code, timestamp, window: DRIFT_STEPS });
    if (delta === null) return undefined;
    return TOTP.counter({ period: PERIOD_S, timestamp }) + delta;
  }

  private totp(secret: string, label = ''): TOTP {
    return new TOTP({
      issuer: this.issuer,
      label,
      algorithm: 'SHA1',
      digits: DIGITS,
      period: PERIOD_S,
      secret: Secret.fromBase32(secret),
    });
  }
}
