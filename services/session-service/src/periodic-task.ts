import type { Logger } from '@warden/logger';

export interface PeriodicTask {
  stop(): Promise<void>;
}

/** Runs `task` now and then every `intervalMs` after it finishes, logging failures; stop() waits for a run in progress. */
export function every(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  logger: Logger,
): PeriodicTask {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = () => {
    running = task()
      .then(
        () => undefined,
        (error: unknown) => logger.error({ err: error, task: name }, 'periodic task failed'),
      )
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  run();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
