import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@warden/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { BreachedPasswordClient } from './breached-password-client.js';

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase();

interface RangeApi {
  baseUrl: string;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

/** A local stand-in for the range API on 127.0.0.1:0. */
async function rangeApi(
  respond: (prefix: string) => { status: number; body: string; delayMs?: number },
): Promise<RangeApi> {
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request);
    const { status, body, delayMs = 0 } = respond(request.url!.replace('/api/range/', ''));
    setTimeout(
      () => response.writeHead(status, { 'content-type': 'text/plain' }).end(body),
      delayMs,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const quietLogger = () => {
  const lines: string[] = [];
  return {
    lines,
    logger: createLogger({
      service: 'test',
      level: 'warn',
      destination: { write: (line: string) => lines.push(line) },
    }),
  };
};

describe('BreachedPasswordClient', () => {
  let api: RangeApi | undefined;
  afterEach(async () => api?.close());

  it('sends only the 5-character SHA-1 prefix and finds the suffix among SUFFIX:COUNT lines', async () => {
    const digest = sha1('password123');
    api = await rangeApi(() => ({
      status: 200,
      body: `0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n${digest.slice(5)}:2413945\r\nFFFF:0`,
    }));
    const client = new BreachedPasswordClient({
      baseUrl: api.baseUrl,
      timeoutMs: 1000,
      logger: quietLogger().logger,
    });

    expect(await client.isBreached('password123')).toBe(true);
    expect(api.requests[0]?.url).toBe(`/api/range/${digest.slice(0, 5)}`);
    expect(api.requests[0]?.headers['add-padding']).toBe('true');
  });

  it('passes a password whose suffix is absent, or only present as padding with count 0', async () => {
    const digest = sha1('a much rarer passphrase');
    api = await rangeApi(() => ({
      status: 200,
      body: `00000000000000000000000000000000000:3\n${digest.slice(5)}:0\n`,
    }));
    const client = new BreachedPasswordClient({
      baseUrl: api.baseUrl,
      timeoutMs: 1000,
      logger: quietLogger().logger,
    });
    expect(await client.isBreached('a much rarer passphrase')).toBe(false);
    expect(await client.isBreached('another passphrase')).toBe(false);
  });

  it('fails open with a warning when the API errors or is too slow', async () => {
    api = await rangeApi((prefix) =>
      prefix === sha1('slow password').slice(0, 5)
        ? { status: 200, body: '', delayMs: 500 }
        : { status: 503, body: 'down' },
    );
    const { lines, logger } = quietLogger();
    const client = new BreachedPasswordClient({ baseUrl: api.baseUrl, timeoutMs: 100, logger });
    expect(await client.isBreached('password123')).toBe(false);
    expect(await client.isBreached('slow password')).toBe(false);
    expect(lines.filter((l) => l.includes('breached-password check'))).toHaveLength(2);
  });

  it('fails open with a warning when nothing listens', async () => {
    api = await rangeApi(() => ({ status: 200, body: '' }));
    const baseUrl = api.baseUrl;
    await api.close();
    api = undefined;
    const { lines, logger } = quietLogger();
    const client = new BreachedPasswordClient({ baseUrl, timeoutMs: 500, logger });
    expect(await client.isBreached('password123')).toBe(false);
    expect(lines.some((l) => l.includes('unreachable'))).toBe(true);
  });
});
