import type { ActivityBuffer } from './activity-buffer.js';
import type { SessionRepository } from './ports.js';

export interface FlushErrorReporter {
  (error: unknown, pending: number): void;
}

/** Writes buffered activity every `intervalMs` in one statement; a failed batch is retried next time. */
export class ActivityFlusher {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly buffer: ActivityBuffer,
    private readonly sessions: SessionRepository,
    private readonly intervalMs: number,
    private readonly onError: FlushErrorReporter,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  flush(): Promise<void> {
    this.flushing ??= this.writeBatch().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    const batch = this.buffer.drain();
    if (batch.length === 0) return;
    try {
      await this.sessions.recordActivity(batch);
    } catch (error) {
      this.buffer.restore(batch);
      this.onError(error, batch.length);
    }
  }
}
