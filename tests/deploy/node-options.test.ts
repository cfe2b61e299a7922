import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  productionNodeFlags,
  type ProcessRole,
  type ServiceName,
} from '../../bench/lib/production-node-options.js';
import { renderDevOverlay } from './kustomize.js';

// A server or worker gets its node flags (V8's heap sizes) from its container's NODE_OPTIONS: k8s
// and compose give each process the same, the old-space limit fits the container, and
// bench/memory.ts measures each process with what its manifest sets.
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICES: ServiceName[] = ['user-service', 'session-service', 'authz-service'];
const PROCESSES = SERVICES.flatMap((service) =>
  (['server', 'worker'] as ProcessRole[]).map((role) => ({ service, role })),
);

type Container = {
  name: string;
  env?: Array<{ name: string; value: string }>;
  resources?: { limits?: { memory?: string } };
};

function k8sContainer(service: ServiceName, role: ProcessRole): Container {
  const name = role === 'server' ? service : `${service}-worker`;
  const deployment = renderDevOverlay().find(
    (o) => o.kind === 'Deployment' && o.metadata.name === name,
  ) as unknown as { spec: { template: { spec: { containers: Container[] } } } } | undefined;
  const container = deployment?.spec.template.spec.containers.find((c) => c.name === role);
  if (!container) throw new Error(`no ${role} container in Deployment ${name}`);
  return container;
}

function composeNodeOptions(service: ServiceName, role: ProcessRole): string | undefined {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, { environment?: Record<string, string> }> };
  const name = role === 'server' ? service : `${service.replace(/-service$/, '')}-worker`;
  const entry = compose.services[name];
  if (!entry) throw new Error(`no compose service ${name}`);
  return entry.environment?.NODE_OPTIONS;
}

const mebibytes = (quantity: string): number => {
  const match = /^(\d+)Mi$/.exec(quantity);
  if (!match) throw new Error(`memory limit ${quantity} is not in Mi`);
  return Number(match[1]);
};

describe('node options of the production processes', () => {
  it.each(PROCESSES)(
    '$service $role: k8s and compose set the same NODE_OPTIONS, and bench/memory.ts reads them',
    ({ service, role }) => {
      const k8s = k8sContainer(service, role).env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
      expect(composeNodeOptions(service, role)).toBe(k8s);
      expect(productionNodeFlags(service, role).nodeOptions).toBe(k8s ?? '');
      expect(productionNodeFlags(service, role).args).toEqual(['--enable-source-maps']);
    },
  );

  it("every worker and authz-service's server size V8 for their container; the other servers keep its defaults", () => {
    const sized = PROCESSES.filter(
      ({ service, role }) => role === 'worker' || service === 'authz-service',
    );
    // Small semi-spaces cost CPU per call on their hot paths (the manifests' comments say how much).
    for (const { service, role } of PROCESSES.filter((p) => !sized.includes(p)))
      expect(productionNodeFlags(service, role).nodeOptions, `${service} ${role}`).toBe('');
    for (const { service, role } of sized) {
      const options = productionNodeFlags(service, role).nodeOptions;
      expect(options, `${service} ${role}`).toMatch(/--max-semi-space-size=4(\s|$)/);
      const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
      const limit = mebibytes(k8sContainer(service, role).resources!.limits!.memory!);
      // The rest of the process (node's own code, native memory, argon2's buffers) sits beside it.
      expect(oldSpace, `${service} ${role}`).toBeGreaterThanOrEqual(128);
      expect(oldSpace, `${service} ${role}`).toBeLessThanOrEqual(limit - 64);
    }
  });

  it('node takes each value in NODE_OPTIONS and sizes its heap by it', () => {
    const values = new Set(
      PROCESSES.map(({ service, role }) => productionNodeFlags(service, role).nodeOptions),
    );
    for (const options of values) {
      if (!options) continue;
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
      const semiMb = Number(/--max-semi-space-size=(\d+)/.exec(options)![1]);
      const oldMb = Number(/--max-old-space-size=(\d+)/.exec(options)![1]);
      // The heap limit is the old space plus the young generation (three semi-spaces at most).
      expect(limit, options).toBeGreaterThanOrEqual(oldMb * mb);
      expect(limit, options).toBeLessThanOrEqual((oldMb + 3 * semiMb) * mb);
      expect(newSpace, options).toBeLessThanOrEqual(2 * semiMb * mb);
    }
  });
});
