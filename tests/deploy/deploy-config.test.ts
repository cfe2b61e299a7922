import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
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
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    for (const [service, load] of Object.entries(LOADERS)) {
      const env = compose.services[service]!.environment!;
      expect(() => load(env), service).not.toThrow();
    }
  });

  it('the Kubernetes ConfigMap with each Deployment env', () => {
    const rendered = execFileSync(
      'kubectl',
      ['kustomize', join(ROOT, 'deploy', 'k8s', 'overlays', 'dev')],
      {
        encoding: 'utf8',
      },
    );
    const objects = parseAllDocuments(rendered).map((d) => d.toJS());
    const common = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'warden-common',
    ).data as Record<string, string>;
    for (const [service, load] of Object.entries(LOADERS)) {
      const deployment = objects.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === service,
      );
      const secret = objects.find(
        (o) => o.kind === 'Secret' && o.metadata.name.startsWith(`warden-${service}`),
      );
      const secretEnv = Object.fromEntries(
        Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [
          k,
          Buffer.from(v, 'base64').toString(),
        ]),
      );
      const env = Object.fromEntries(
        (
          deployment.spec.template.spec.containers[0].env as Array<{ name: string; value: string }>
        ).map((e) => [e.name, e.value]),
      );
      expect(() => load({ ...common, ...secretEnv, ...env }), service).not.toThrow();
    }
  });
});
