import { createHash } from 'node:crypto';
import type { Logger } from '@warden/logger';
import type { BreachedPasswordChecker } from '../../application/ports.js';

export interface BreachedPasswordClientOptions {
  /** e.g. `https://api.pwnedpasswords.com`; the range API lives at `<base_url>/range/<prefix>`. */
  baseUrl: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * The k-anonymity range API: only the first 5 hex characters of the password's SHA-1 leave the
 * process; the answer lists `SUFFIX:COUNT` lines for every hash sharing them. Fails open: when the
 * API cannot answer, registration goes on and a warning is logged.
 */
export class BreachedPasswordClient implements BreachedPasswordChecker {
  private readonly baseUrl: string;

  constructor(private readonly options: BreachedPasswordClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async isBreached(password: string): Promise<boolean> {
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = digest.slice(0, 5);
    try {
      const response = await fetch(`${this.baseUrl}/range/${prefix}`, {
        headers: { 'Add-Padding': 'true' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) {
        this.options.logger.warn(
          { status: response.status },
          'breached-password check unavailable; allowing the password',
        );
        return false;
      }
      return listsSuffix(await response.text(), digest.slice(5));
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'breached-password check unreachable; allowing the password',
      );
      return false;
    }
  }
}

/** Padding entries have count 0 and do not count as breached. */
function listsSuffix(body: string, suffix: string): boolean {
  for (const line of body.split('\n')) {
    const [candidate, count] = line.trim().split(':');
    if (candidate?.toUpperCase() === suffix) return Number(count) > 0;
  }
  return false;
}

/** The default: no breached-password check. */
export const NO_BREACH_CHECK: BreachedPasswordChecker = { isBreached: async () => false };
