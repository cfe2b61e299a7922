import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// A process that does not trace never loads OpenTelemetry (some MB of each process's idle RSS):
// the logger, a span started and ended, a propagated trace, a published message's span, all with
// tracing off. Checked in a fresh node process (this one shares its modules with other files), with
// every ESM module it resolves and every CommonJS module it requires recorded.
const ROOT = join(import.meta.dirname, '..', '..', '..');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const LOGGER = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;
const dir = mkdtempSync(join(tmpdir(), 'warden-lazy-otel-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ESM resolutions, appended to a file by a resolve hook (synchronously: none can be missed). */
const HOOK = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(file, resolved.url + '\\n');
  return resolved;
}`;

/**
 * Runs `steps` (module code with `logger`, the @warden/logger module, in scope) in a new process
 * and returns the OpenTelemetry packages loaded before and after them.
 */
function openTelemetryLoaded(name: string, steps: string): { before: string[]; after: string[] } {
  const log = join(dir, `${name}.log`);
  const script = `
    import { createRequire, register } from 'node:module';
    import { readFileSync } from 'node:fs';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), {
      data: { file: ${JSON.stringify(log)} },
    });
    const loaded = () => [
      ...readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n'),
      ...Object.keys(createRequire(import.meta.url).cache),
    ].flatMap((path) => /\\/node_modules\\/(@opentelemetry\\/[^/]+)\\//.exec(path)?.[1] ?? []);
    const logger = await import(${JSON.stringify(LOGGER)});
    const before = loaded();
    ${steps}
    console.log(JSON.stringify({ before: [...new Set(before)], after: [...new Set(loaded())] }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', TSX_LOADER, '--input-type=module', '--eval', script],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: '',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '',
        OTEL_SDK_DISABLED: '',
      },
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as { before: string[]; after: string[] };
}

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('OpenTelemetry is loaded only when used', () => {
  it('tracing off: logging, spans, propagation and messaging spans load none of it', () => {
    const { before, after } = openTelemetryLoaded(
      'off',
      `
      const log = logger.createLogger({ service: 'test', level: 'silent' });
      const spans = logger.startTracing({ serviceName: 'test', logger: log });
      if (spans.enabled) throw new Error('tracing is on');
      const span = spans.start('call', 'server', { traceparent: ${JSON.stringify(TRACEPARENT)} });
      span.end({ error: 'failed' });
      logger.continueTrace(span.context.traceparent);
      logger.recordProducerSpan({ subject: 's', eventId: 'e', startMs: 1, endMs: 2 });
      logger.recordConsumerSpan({ event: { id: 'e', type: 't' }, durable: 'd', startMs: 1, endMs: 2 });
      logger.withLogContext({ requestId: 'r' }, () => log.info('hello'));
      `,
    );
    expect(before).toEqual([]);
    expect(after).toEqual([]);
  });

  it('a caller tracestate loads the core parser; tracing on loads the SDK and exporter', () => {
    const { before, after } = openTelemetryLoaded(
      'on',
      `
      const continued = logger.continueTrace(${JSON.stringify(TRACEPARENT)}, 'vendor=1');
      if (continued.tracestate !== 'vendor=1') throw new Error('tracestate lost');
      const log = logger.createLogger({ service: 'test', level: 'silent' });
      const spans = logger.startTracing({
        serviceName: 'test',
        logger: log,
        endpoint: 'http://127.0.0.1:9',
        shutdownTimeoutMs: 100,
      });
      if (!spans.enabled) throw new Error('tracing is off');
      await spans.shutdown();
      `,
    );
    expect(before).toEqual([]);
    expect(after).toEqual(
      expect.arrayContaining([
        '@opentelemetry/api',
        '@opentelemetry/core',
        '@opentelemetry/sdk-trace-base',
        '@opentelemetry/exporter-trace-otlp-proto',
      ]),
    );
  });
});
