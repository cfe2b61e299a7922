/**
 * Access tokens whose signature and claims were verified, by their exact text, until they would
 * stop verifying: a client sends the same token for its whole life, so signature checks happen
 * once per token rather than once per request. Revocations are still checked every time.
 * Bounded: past `max` entries the oldest goes first.
 */
export class VerifiedTokens<T> {
  private readonly entries = new Map<string, { value: T; untilMs: number }>();

  constructor(private readonly max: number) {}

  get(token: string, nowMs: number): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.untilMs > nowMs) return entry.value;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, value: T, untilMs: number): void {
    if (this.max <= 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { value, untilMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
