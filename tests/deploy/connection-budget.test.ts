import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDevOverlay } from './kustomize.js';

// docs/postgres-connections.md states the worst case of Postgres connections deploy/k8s can open:
// recomputed here from the rendered manifests and each service's pool size, so the page cannot fall
// behind a change of replicas, autoscaling, rollout surge or pool size.
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICES = ['user-service', 'session-service', 'authz-service'];

interface Rendered {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    replicas?: number;
    maxReplicas?: number;
    parallelism?: number;
    scaleTargetRef?: { kind: string; name: string };
    strategy?: { rollingUpdate?: { maxSurge?: number | string } };
    template: {
      spec: { containers: Array<{ env?: Array<{ name: string; value?: string }> }> };
    };
  };
}

const poolSizeOf = (service: string, workload: Rendered): number => {
  const override = workload.spec.template.spec.containers[0]!.env?.find(
    (e) => e.name === 'WARDEN_DATABASE_POOL_SIZE',
  )?.value;
  if (override) return Number(override);
  return (
    parse(readFileSync(join(ROOT, 'services', service, 'config.yaml'), 'utf8')) as {
      database: { pool_size: number };
    }
  ).database.pool_size;
};

/** Pods a rolling update may add: maxSurge (default 25 %, rounded up). */
const surgeOf = (workload: Rendered, replicas: number): number => {
  const surge = workload.spec.strategy?.rollingUpdate?.maxSurge ?? '25%';
  return typeof surge === 'number'
    ? surge
    : Math.ceil((replicas * Number(surge.replace('%', ''))) / 100);
};

describe('docs/postgres-connections.md', () => {
  const objects = renderDevOverlay() as unknown as Rendered[];
  const doc = readFileSync(join(ROOT, 'docs', 'postgres-connections.md'), 'utf8');

  it('states the worst case the manifests can open, and a max_connections above it', () => {
    let total = 0;
    for (const service of SERVICES) {
      const deployments = objects.filter(
        (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/name'] === service,
      );
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
        service,
        `${service}-worker`,
      ]);
      for (const deployment of deployments) {
        const hpa = objects.find(
          (o) =>
            o.kind === 'HorizontalPodAutoscaler' &&
            o.spec.scaleTargetRef?.name === deployment.metadata.name,
        );
        const replicas = hpa?.spec.maxReplicas ?? deployment.spec.replicas ?? 1;
        total += (replicas + surgeOf(deployment, replicas)) * poolSizeOf(service, deployment);
      }
      const jobs = objects.filter(
        (o) =>
          o.kind === 'Job' &&
          o.metadata.labels?.['app.kubernetes.io/name'] === service &&
          o.metadata.labels['app.kubernetes.io/component'] === 'migrate',
      );
      expect(jobs).toHaveLength(1);
      total += (jobs[0]!.spec.parallelism ?? 1) * poolSizeOf(service, jobs[0]!);
    }
    expect(doc).toContain(`worst case ${total} connections`);
    const maxConnections = Number(/`max_connections = (\d+)`/.exec(doc)?.[1]);
    expect(maxConnections).toBeGreaterThan(total);
  });
});
