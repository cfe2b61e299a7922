import type { Logger } from '@warden/logger';
import { Gauge, type Registry } from 'prom-client';
import { every, type Periodic } from './every.js';

/** Something the process cannot do its work without; `probe` resolves when it answers. */
export interface Dependency {
  name: string;
  probe(): Promise<unknown>;
}

export interface DependencyMonitorOptions {
  dependencies: readonly Dependency[];
  /** Pause between two rounds of probes (health.dependency_interval). */
  intervalMs: number;
  /** How long a dependency must fail every probe before it counts as down (health.dependency_grace). */
  graceMs: number;
  /** A probe still pending after this counts as a failure. */
  timeoutMs: number;
  /** Called with the overall state each time it changes (all dependencies up, or not). */
  onChange(healthy: boolean): void;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Where warden_dependency_up{dependency} is registered; none: no metric. */
  registry?: Registry;
}

interface State {
  up: boolean;
  /** When the current run of failed probes began; undefined while the last probe succeeded. */
  failingSince: number | undefined;
}

const GAUGE = 'warden_dependency_up';

/**
 * Probes each dependency every interval. One that has failed every probe for the grace counts as
 * down (a blip shorter than the grace, or a flapping link that answers in between, does not); one
 * probe that succeeds brings it back up. Each change of a dependency is logged once and shown as
 * warden_dependency_up{dependency}; each change of the whole goes to `onChange`.
 */
export class DependencyMonitor {
  private readonly states = new Map<string, State>();
  private readonly gauge: Gauge<'dependency'> | undefined;
  private periodic: Periodic | undefined;
  private overall = true;

  constructor(private readonly o: DependencyMonitorOptions) {
    if (o.registry)
      this.gauge =
        (o.registry.getSingleMetric(GAUGE) as Gauge<'dependency'> | undefined) ??
        new Gauge({
          name: GAUGE,
          help: 'whether a dependency (postgres, nats) answered within health.dependency_grace (1) or not (0)',
          labelNames: ['dependency'],
          registers: [o.registry],
        });
    for (const { name } of o.dependencies) {
      this.states.set(name, { up: true, failingSince: undefined });
      this.gauge?.set({ dependency: name }, 1);
    }
  }

  /** All dependencies up (as far as the grace allows). */
  get healthy(): boolean {
    return this.overall;
  }

  /** Probes now, then every interval, until `stop`. */
  start(): void {
    this.periodic ??= every(this.o.intervalMs, () => this.checkOnce(), {
      name: 'dependency checks',
      logger: this.o.logger,
    });
  }

  async stop(): Promise<void> {
    await this.periodic?.stop();
  }

  /** One round of probes (all at once, each bounded by timeoutMs); returns the overall state. */
  async checkOnce(): Promise<boolean> {
    const results = await Promise.all(
      this.o.dependencies.map(async (dependency) => ({
        name: dependency.name,
        error: await this.probe(dependency),
      })),
    );
    const now = Date.now();
    for (const { name, error } of results) this.record(name, error, now);
    const healthy = [...this.states.values()].every((state) => state.up);
    if (healthy !== this.overall) {
      this.overall = healthy;
      this.o.onChange(healthy);
    }
    return healthy;
  }

  /** Undefined when the dependency answered, else why not. */
  private async probe(dependency: Dependency): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.o.timeoutMs} ms`)),
        this.o.timeoutMs,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(() => dependency.probe()), timeout]);
      return undefined;
    } catch (error) {
      return error ?? new Error('probe failed');
    } finally {
      clearTimeout(timer);
    }
  }

  private record(name: string, error: unknown, now: number): void {
    const state = this.states.get(name)!;
    if (error === undefined) {
      state.failingSince = undefined;
      if (!state.up) {
        state.up = true;
        this.gauge?.set({ dependency: name }, 1);
        this.o.logger.info({ dependency: name }, 'dependency reachable again');
      }
      return;
    }
    state.failingSince ??= now;
    if (state.up && now - state.failingSince >= this.o.graceMs) {
      state.up = false;
      this.gauge?.set({ dependency: name }, 0);
      this.o.logger.warn(
        { dependency: name, err: error, graceMs: this.o.graceMs },
        'dependency unreachable for longer than the grace: not ready',
      );
    }
  }
}
