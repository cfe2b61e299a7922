import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDevOverlay, renderKustomization } from './kustomize.js';

// Rollouts that work with plain `kubectl apply`: a migrate Job per release, pods that wait for
// their schema, servers that leave the endpoints before they stop, and a NATS cluster that may lose
// one node at a time. Read from the rendered manifests.
const ROOT = join(import.meta.dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');
const SERVICES = ['user-service', 'session-service', 'authz-service'] as const;

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: { name: string } }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface Workload {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec: {
    replicas?: number;
    maxUnavailable?: number;
    selector?: { matchLabels: Record<string, string> };
    volumeClaimTemplates?: Array<{
      metadata: { name: string };
      spec: { resources: { requests: { storage: string } } };
    }>;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        initContainers?: Container[];
        containers: Container[];
        volumes?: Array<{ name: string }>;
      };
    };
  };
}

const objects = renderDevOverlay() as unknown as Workload[];
const named = (list: Workload[], kind: string, name: string): Workload => {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return found;
};
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
const durationMs = (text: string): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
};
const shutdownGraceMs = (service: string): number =>
  durationMs(
    (
      parse(readFileSync(join(ROOT, 'services', service, 'config.yaml'), 'utf8')) as {
        grpc: { shutdown_grace: string };
      }
    ).grpc.shutdown_grace,
  );
/** libs/runtime's exitOnSignal: a process exits at the latest this long after shutdown_grace. */
const EXIT_MARGIN_MS = 20_000;

describe('migrations ordered with plain kubectl apply', () => {
  const version = named(objects, 'ConfigMap', 'warden-release').data!.version!;

  it('names each migrate Job after the release, whose version also tags every warden image', () => {
    expect(version).toBe('dev');
    for (const service of SERVICES) {
      const job = named(objects, 'Job', `${service}-migrate-${version}`);
      expect(job.spec.template.spec.containers[0]!.args).toEqual(['node', 'dist/migrate.js']);
      for (const workload of [
        job,
        ...['', '-worker'].map((s) => named(objects, 'Deployment', `${service}${s}`)),
      ])
        for (const c of [
          ...(workload.spec.template.spec.initContainers ?? []),
          ...workload.spec.template.spec.containers,
        ])
          expect(c.image, `${workload.metadata.name}/${c.name}`).toBe(
            `warden/${service}:${version}`,
          );
    }
    expect(objects.filter((o) => o.kind === 'Job' && /-migrate$/.test(o.metadata.name))).toEqual(
      [],
    );
  });

  it('takes the version from one place: another release renders new Jobs and tags', () => {
    // An overlay like dev's with another version (paths relative: kustomize refuses absolute ones).
    const dir = mkdtempSync(join(tmpdir(), 'warden-release-'));
    try {
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        [
          `resources: [${relative(dir, join(K8S, 'base'))}]`,
          `components: [${relative(dir, join(K8S, 'components', 'release'))}]`,
          'configMapGenerator:',
          '  - name: warden-release',
          '    literals: [version=2026.12.01]',
          '    options: { disableNameSuffixHash: true }',
        ].join('\n'),
      );
      const release = renderKustomization(dir) as unknown as Workload[];
      for (const service of SERVICES) {
        const job = named(release, 'Job', `${service}-migrate-2026.12.01`);
        expect(job.spec.template.spec.containers[0]!.image).toBe(`warden/${service}:2026.12.01`);
        const server = named(release, 'Deployment', service).spec.template.spec;
        expect(server.initContainers![0]!.image).toBe(`warden/${service}:2026.12.01`);
        expect(server.containers[0]!.image).toBe(`warden/${service}:2026.12.01`);
      }
      // nats-provision is no release's migrate Job.
      expect(named(release, 'Job', 'nats-provision').metadata.name).toBe('nats-provision');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("holds every server and worker pod back until its schema has this build's migrations", () => {
    for (const service of SERVICES) {
      const job = named(objects, 'Job', `${service}-migrate-${version}`).spec.template.spec
        .containers[0]!;
      for (const name of [service, `${service}-worker`]) {
        const pod = named(objects, 'Deployment', name).spec.template.spec;
        expect(
          pod.initContainers?.map((c) => c.name),
          name,
        ).toEqual(['wait-for-migrations']);
        const wait = pod.initContainers![0]!;
        expect(wait.args!.slice(0, 3), name).toEqual(['node', 'dist/migrate.js', '--wait']);
        expect(wait.args!.slice(3), name).toEqual([expect.stringMatching(/^--timeout=\d+m$/)]);
        // Same database, schema and config as the Job that applies them.
        expect(wait.envFrom, name).toEqual(job.envFrom);
        expect(envOf(wait).WARDEN_DATABASE_SCHEMA, name).toBe(envOf(job).WARDEN_DATABASE_SCHEMA);
        expect(envOf(wait).WARDEN_DATABASE_SCHEMA, name).toBe(
          envOf(pod.containers[0]!).WARDEN_DATABASE_SCHEMA,
        );
        expect(wait.volumeMounts, name).toEqual(job.volumeMounts);
        expect(wait.resources?.limits?.memory, name).toBeDefined();
      }
    }
  });
});

describe('servers leave the endpoints before they stop', () => {
  it('sleeps in preStop, then has shutdown_grace and the exit margin inside the grace period', () => {
    for (const service of SERVICES) {
      const pod = named(objects, 'Deployment', service).spec.template.spec;
      const command = pod.containers[0]!.lifecycle?.preStop?.exec?.command ?? [];
      expect(command.slice(0, 2), service).toEqual(['node', '-e']);
      const delayMs = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(command[2] ?? '')?.[1]);
      expect(delayMs, service).toBeGreaterThanOrEqual(3_000);
      expect(pod.terminationGracePeriodSeconds! * 1000, service).toBeGreaterThan(
        delayMs + shutdownGraceMs(service) + EXIT_MARGIN_MS,
      );
      // A worker is behind no Service: no delay, but its grace still covers its own exit.
      const worker = named(objects, 'Deployment', `${service}-worker`).spec.template.spec;
      expect(worker.terminationGracePeriodSeconds! * 1000, service).toBeGreaterThan(
        shutdownGraceMs(service) + EXIT_MARGIN_MS,
      );
    }
  });
});

describe('NATS: three nodes that may lose one at a time', () => {
  const nats = named(objects, 'StatefulSet', 'nats');
  const pod = nats.spec.template.spec;
  const container = pod.containers[0]!;
  const conf = named(objects, 'ConfigMap', 'nats-config').data!['nats.conf']!;

  it('runs 3 replicas with a JetStream volume claim each, mounted where the store is', () => {
    expect(nats.spec.replicas).toBe(3);
    const claim = nats.spec.volumeClaimTemplates!.find((c) => c.metadata.name === 'data');
    expect(claim?.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
    const storeDir = /store_dir: (\S+)/.exec(conf)?.[1];
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: storeDir });
  });

  it('requests and limits its resources', () => {
    expect(container.resources?.requests).toEqual({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources?.limits?.memory).toBeDefined();
  });

  it('keeps a quorum through voluntary disruptions: a PDB with maxUnavailable 1', () => {
    const pdb = named(objects, 'PodDisruptionBudget', 'nats');
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(pdb.spec.selector!.matchLabels).toEqual(nats.spec.template.metadata.labels);
  });

  it('shuts down in lame duck mode through the pid file, within the grace period', () => {
    const pidFile = /pid_file: (\S+)/.exec(conf)?.[1];
    expect(pidFile).toBeDefined();
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command.join(' ')).toContain(`nats-server --signal ldm=${pidFile}`);
    const pidDir = pidFile!.slice(0, pidFile!.lastIndexOf('/'));
    expect(container.volumeMounts!.map((m) => m.mountPath)).toContain(pidDir);
    const lameDuckMs = durationMs(/lame_duck_duration: (\S+)/.exec(conf)![1]!);
    // nats-server's lame_duck_grace_period (10 s) comes before the clients are moved off.
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(10_000 + lameDuckMs);
  });

  it('has its streams provisioned with 3 replicas, and the services expect 3', () => {
    const provision = named(objects, 'Job', 'nats-provision').spec.template.spec.containers[0]!;
    expect(envOf(provision).REPLICAS).toBe('3');
    expect(named(objects, 'ConfigMap', 'warden-common').data!.WARDEN_NATS_STREAM_REPLICAS).toBe(
      '3',
    );
  });
});
