import type { Logger } from '@warden/logger';

type Step = [name: string, stop: () => Promise<unknown>];

/**
 * A process's shutdown: its own steps in reverse order of registration (last started, first
 * stopped), then the fixed tail (metrics, NATS, database, spans). A failing step is logged and
 * the rest still run.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private readonly tail: Step[] = [];

  onStop(name: string, stop: () => Promise<unknown>): void {
    this.steps.push([name, stop]);
  }

  /** Tail steps run after every `onStop` step, in the order given. */
  atEnd(name: string, stop: () => Promise<unknown>): void {
    this.tail.push([name, stop]);
  }

  /** Runs every step once; 0 when all succeeded, else 1. */
  async run(logger: Pick<Logger, 'error'>): Promise<number> {
    let code = 0;
    for (const [name, step] of [...this.steps.reverse(), ...this.tail]) {
      try {
        await step();
      } catch (error) {
        code = 1;
        logger.error({ err: error, step: name }, 'shutdown step failed');
      }
    }
    this.steps.length = 0;
    this.tail.length = 0;
    return code;
  }
}

/**
 * Runs `shutdown` once on SIGTERM or SIGINT, then exits. A second signal, or steps slower than
 * `forceAfterMs`, exits at once.
 */
export function exitOnSignal(shutdown: Shutdown, logger: Logger, forceAfterMs: number): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, forceAfterMs);
    force.unref();
    const code = await shutdown.run(logger);
    logger.info('stopped');
    logger.flush?.();
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** Prints a start-up failure (bad config, unreachable database) as one line and exits non-zero. */
export function failStartup(service: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`${service}: cannot start: ${redactUrls(message)}`);
  process.exit(1);
}

/** Connection strings may carry a password; messages keep the host only. */
export const redactUrls = (text: string): string => text.replace(/(\w+:\/\/)[^@/\s]*@/g, '$1');
