import { describe, expect, it } from 'vitest';
import { createLogger } from './index.js';

function logged(fields: object): string {
  const lines: string[] = [];
  createLogger({ service: 'test', destination: { write: (line) => lines.push(line) } }).info(
    fields,
    'line',
  );
  return lines.join('');
}

describe('log redaction', () => {
  it('keeps secrets and personal data out of log lines, at the top and one level down', () => {
    const line = logged({
      email: 'ada@example.com',
      password: 'hunter2-hunter2',
      user: { id: 'u1', email: 'ada@example.com', displayName: 'Ada Lovelace' },
      client: { ipAddress: '198.51.100.7', userAgent: 'Agent/1.0' },
      token: 'wst_secret',
    });
    for (const secret of [
      'ada@example.com',
      'hunter2',
      'Ada Lovelace',
      '198.51.100.7',
      'Agent/1.0',
      'wst_secret',
    ])
      expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({ user: { id: 'u1', email: '[redacted]' } });
  });
});
