import { describe, expect, it } from 'vitest';
import { checkHealth, HEALTH_STATUS, LIVENESS_SERVICE, serveHealth } from '../src/index.js';

const { SERVING, NOT_SERVING } = HEALTH_STATUS;

describe('serveHealth (a worker health port)', () => {
  it('readiness ("" and the names given) follows setServing; liveness does not', async () => {
    const health = await serveHealth('127.0.0.1', 0, ['fixture-worker']);
    const address = `127.0.0.1:${health.port}`;
    try {
      expect(health.port).toBeGreaterThan(0);
      expect(await checkHealth(address)).toBe(SERVING);
      expect(await checkHealth(address, 'fixture-worker')).toBe(SERVING);
      expect(await checkHealth(address, LIVENESS_SERVICE)).toBe(SERVING);

      health.setServing(false);
      expect(await checkHealth(address)).toBe(NOT_SERVING);
      expect(await checkHealth(address, 'fixture-worker')).toBe(NOT_SERVING);
      expect(await checkHealth(address, LIVENESS_SERVICE)).toBe(SERVING);

      health.setServing(true);
      expect(await checkHealth(address)).toBe(SERVING);
    } finally {
      health.close();
    }
    await expect(checkHealth(address, LIVENESS_SERVICE, 500)).rejects.toThrow();
  });
});
