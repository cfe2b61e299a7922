import type { Logger } from '@warden/logger';

export interface Periodic {
  /** Waits for a run in progress, then stops. */
  stop(): Promise<void>;
}

/** Runs `task` now and then every `intervalMs` after each run ends; a failure is logged, not fatal. */
export function every(
  intervalMs: number,
  name: string,
  logger: Logger,
  task: () => Promise<unknown>,
): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = task()
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err, task: name }, 'periodic task failed'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
