import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDevOverlay } from './kustomize.js';
import { parse } from 'yaml';
import { loadAuthzConfig } from '../../services/authz-service/src/config.js';
import { loadSessionConfig } from '../../services/session-service/src/config.js';
import { loadUserConfig } from '../../services/user-service/src/config.js';

// The environment the deploy files give each service must pass that service's own config
// validation: a typo there would only show when a container refuses to start.
const ROOT = join(import.meta.dirname, '..', '..');
const LOADERS: Record<string, (env: NodeJS.ProcessEnv) => unknown> = {
  'user-service': (env) => loadUserConfig(env),
  'session-service': (env) => loadSessionConfig(env),
  'authz-service': (env) => loadAuthzConfig(env),
};

describe('deploy environments pass each service config validation', () => {
  it('docker-compose.yml', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    for (const [service, load] of Object.entries(LOADERS)) {
      // What the image sets (deploy/docker/Dockerfile), then what compose gives.
      const env = { NODE_ENV: 'production', ...compose.services[service]!.environment! };
      expect(env.NODE_ENV, service).toBe('development');
      expect(() => load(env), service).not.toThrow();
    }
  });

  it('docker-compose.yml publishes every port on loopback only (the dev keys are public)', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
      merge: true,
    }) as { services: Record<string, { ports?: string[] }> };
    const published = Object.values(compose.services).flatMap((service) => service.ports ?? []);
    expect(published.length).toBeGreaterThanOrEqual(6);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('the Kubernetes ConfigMap, Secrets and mounted files of every Deployment and Job', () => {
    const objects = renderDevOverlay();
    const secretData = (name: string): Record<string, string> =>
      Object.fromEntries(
        Object.entries(
          objects.find((o) => o.kind === 'Secret' && o.metadata.name === name)?.data ?? {},
        ).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
    const configMap = (name: string): Record<string, string> =>
      objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)?.data ?? {};
    const files = mkdtempSync(join(tmpdir(), 'warden-mounts-'));
    let checked = 0;
    for (const [service, load] of Object.entries(LOADERS)) {
      const workloads = objects.filter(
        (o) =>
          (o.kind === 'Deployment' || o.kind === 'Job') &&
          o.metadata.labels?.['app.kubernetes.io/name'] === service,
      );
      expect(workloads.map((o) => o.kind).sort(), service).toEqual([
        'Deployment',
        'Deployment',
        'Job',
      ]);
      for (const workload of workloads) {
        const pod = workload.spec!.template.spec;
        const container = pod.containers[0]!;
        const env: Record<string, string> = {};
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) Object.assign(env, configMap(source.configMapRef.name));
          if (source.secretRef) Object.assign(env, secretData(source.secretRef.name));
        }
        for (const variable of container.env ?? []) env[variable.name] = variable.value;
        // Mounted Secrets become real files, and the variables naming them point there.
        for (const mount of container.volumeMounts ?? []) {
          const volume = pod.volumes!.find((v) => v.name === mount.name)!;
          const dir = join(files, workload.metadata.name, mount.name);
          mkdirSync(dir, { recursive: true });
          for (const [file, text] of Object.entries(secretData(volume.secret!.secretName)))
            writeFileSync(join(dir, file), text);
          for (const [name, value] of Object.entries(env))
            if (value.startsWith(`${mount.mountPath}/`))
              env[name] = join(dir, value.slice(mount.mountPath.length + 1));
        }
        const where = `${workload.kind} ${workload.metadata.name}`;
        expect(env.NODE_ENV, where).toBe('production');
        expect(() => load(env), where).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBe(9);
  });
});
