import type { Logger } from '@warden/logger';

/**
 * Runs `steps` once, in order, on SIGTERM or SIGINT (stop accepting, drain, flush, close pools),
 * then exits. A second signal, or steps slower than `forceAfterMs`, exits at once.
 */
export function onShutdown(
  logger: Logger,
  steps: Array<[string, () => Promise<unknown>]>,
  forceAfterMs = 30_000,
): void {
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
    let code = 0;
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        code = 1;
        logger.error({ err: error, step: name }, 'shutdown step failed');
      }
    }
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
  console.error(`${service}: cannot start: ${message}`);
  process.exit(1);
}
