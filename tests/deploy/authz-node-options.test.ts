import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { productionNodeOptions } from '../../bench/lib/authz-bundle.js';
import { renderDevOverlay } from './kustomize.js';

// authz-service's server runs with V8 heap sizes for a process whose live data is bounded (the
// subject cache): the k8s Deployment and compose set the same NODE_OPTIONS, and
// bench/scale-authz.ts measures the server with what the Deployment sets.
const ROOT = join(import.meta.dirname, '..', '..');

type Container = { name: string; env?: Array<{ name: string; value: string }> };

const k8sNodeOptions = (): string | undefined => {
  const deployment = renderDevOverlay().find(
    (o) => o.kind === 'Deployment' && o.metadata.name === 'authz-service',
  ) as unknown as { spec: { template: { spec: { containers: Container[] } } } };
  const server = deployment.spec.template.spec.containers.find((c) => c.name === 'server')!;
  return server.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
};

const composeNodeOptions = (): string | undefined => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, { environment?: Record<string, string> }> };
  return compose.services['authz-service']?.environment?.NODE_OPTIONS;
};

describe('authz-service NODE_OPTIONS', () => {
  it('k8s and compose give the server the same V8 heap sizes, and the bench reads them', () => {
    const options = k8sNodeOptions();
    expect(options).toMatch(/--max-semi-space-size=\d+/);
    expect(options).toMatch(/--max-old-space-size=\d+/);
    expect(composeNodeOptions()).toBe(options);
    expect(productionNodeOptions()).toBe(options);
  });

  it('node accepts them in NODE_OPTIONS and sizes its heap by them', () => {
    const options = productionNodeOptions();
    const semiMb = Number(/--max-semi-space-size=(\d+)/.exec(options)![1]);
    const oldMb = Number(/--max-old-space-size=(\d+)/.exec(options)![1]);
    // A flag node does not allow in NODE_OPTIONS makes it exit non-zero before running anything.
    const printed = execFileSync(
      process.execPath,
      [
        '-e',
        `const v8 = require('node:v8');
         const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
         console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, newSpace: newSpace.space_size }));`,
      ],
      { env: { ...process.env, NODE_OPTIONS: options }, encoding: 'utf8' },
    );
    const { limit, newSpace } = JSON.parse(printed) as { limit: number; newSpace: number };
    const mb = 1024 * 1024;
    // The heap limit is the old space plus the young generation (three semi-spaces at most).
    expect(limit).toBeGreaterThanOrEqual(oldMb * mb);
    expect(limit).toBeLessThanOrEqual((oldMb + 3 * semiMb) * mb);
    expect(newSpace).toBeLessThanOrEqual(2 * semiMb * mb);
  });
});
