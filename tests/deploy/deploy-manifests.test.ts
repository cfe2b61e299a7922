import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderDevOverlay } from './kustomize.js';
import { parse } from 'yaml';

// No Docker engine runs here, so images and compose cannot be run: validate what can be validated.
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICES = ['user-service', 'session-service', 'authz-service'];

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      {
        build?: { dockerfile: string; args: { SERVICE: string } };
        image?: string;
        command?: string[];
        depends_on?: Record<string, unknown>;
      }
    >;
  };

  it('runs every service as a migration, a server and a worker, on Postgres and NATS', () => {
    for (const service of SERVICES) {
      const short = service.replace('-service', '');
      expect(compose.services[`${short}-migrate`]?.command).toEqual(['node', 'dist/migrate.js']);
      expect(compose.services[`${short}-worker`]?.command).toEqual(['node', 'dist/worker.js']);
      expect(compose.services[service]?.image).toBe(`warden/${service}:dev`);
      expect(compose.services[`${short}-migrate`]?.build?.args.SERVICE).toBe(service);
    }
    expect(compose.services.postgres).toBeDefined();
    expect(compose.services.nats).toBeDefined();
  });

  it('refers only to services it defines and to a Dockerfile that exists', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(compose.services[dependency], `${name} depends on ${dependency}`).toBeDefined();
      }
      if (service.build) expect(existsSync(join(ROOT, service.build.dockerfile))).toBe(true);
    }
  });
});

/** worker.metrics_port of a service's config.yaml: where its worker serves /metrics. */
const workerMetricsPort = (service: string): number =>
  (
    parse(readFileSync(join(ROOT, 'services', service, 'config.yaml'), 'utf8')) as {
      worker: { metrics_port: number };
    }
  ).worker.metrics_port;

describe('worker metrics', () => {
  it('every worker has its own metrics port in config.yaml: user 9461, session 9462, authz 9463', () => {
    expect(SERVICES.map(workerMetricsPort)).toEqual([9461, 9462, 9463]);
  });

  it('each k8s worker exposes that port and asks Prometheus to scrape it', () => {
    for (const service of SERVICES) {
      const worker = parse(
        readFileSync(join(ROOT, 'deploy', 'k8s', 'base', service, 'worker.yaml'), 'utf8'),
      ) as {
        spec: {
          template: {
            metadata: { annotations: Record<string, string> };
            spec: { containers: Array<{ ports: Array<{ name: string; containerPort: number }> }> };
          };
        };
      };
      const port = workerMetricsPort(service);
      expect(worker.spec.template.metadata.annotations, service).toEqual({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
      });
      expect(worker.spec.template.spec.containers[0]!.ports, service).toContainEqual({
        name: 'metrics',
        containerPort: port,
      });
    }
  });

  it('docker compose publishes each worker metrics port on loopback', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { ports?: string[] }>;
    };
    for (const service of SERVICES) {
      const port = workerMetricsPort(service);
      const short = service.replace('-service', '');
      expect(compose.services[`${short}-worker`]?.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    }
  });
});

describe('deploy/docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');

  it('copies only paths that exist in the repository', () => {
    const copies = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/).slice(0, -1),
    );
    expect(copies.length).toBeGreaterThan(3);
    for (const path of copies) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it('builds with the scripts the repository has and runs as a non-root user', () => {
    expect(dockerfile).toContain('bash scripts/package.sh ${SERVICE} /out');
    expect(existsSync(join(ROOT, 'scripts', 'package.sh'))).toBe(true);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/CMD \["node", "--enable-source-maps", "dist\/main.js"\]/);
  });
});

describe('deploy/k8s (kubectl kustomize, offline)', () => {
  const objects = renderDevOverlay() as unknown as Array<{
    kind: string;
    metadata: { name: string };
    spec?: Record<string, never>;
  }>;
  const named = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);

  it('has per service a probed server, a worker, a migrations Job, a Service, an HPA and a PDB', () => {
    for (const service of SERVICES) {
      const server = named('Deployment', service) as unknown as {
        spec: {
          template: {
            spec: {
              containers: Array<{
                readinessProbe: { grpc: { port: number } };
                livenessProbe: unknown;
                args: string[];
              }>;
            };
          };
        };
      };
      const container = server.spec.template.spec.containers[0]!;
      expect(container.readinessProbe.grpc.port).toBeGreaterThan(50_000);
      expect(container.livenessProbe).toBeDefined();
      expect(named('Deployment', `${service}-worker`)).toBeDefined();
      expect(named('Job', `${service}-migrate-dev`)).toBeDefined();
      expect(named('Service', service)).toBeDefined();
      expect(named('HorizontalPodAutoscaler', service)).toBeDefined();
      expect(named('PodDisruptionBudget', service)).toBeDefined();
    }
  });

  it('spreads calls over replicas: headless gRPC Services, dns:/// addresses, connections that age', () => {
    const common = named('ConfigMap', 'warden-common') as unknown as {
      data: Record<string, string>;
    };
    const variables: Record<string, string> = {
      'user-service': 'WARDEN_USER_SERVICE_ADDRESS',
      'session-service': 'WARDEN_SESSION_ADDRESS',
      'authz-service': 'WARDEN_AUTHZ_ADDRESS',
    };
    for (const service of SERVICES) {
      const svc = named('Service', service) as unknown as {
        spec: { clusterIP?: string; ports: Array<{ name: string; port: number }> };
      };
      // Headless: DNS returns every ready pod, which the clients' round_robin spreads calls over.
      expect(svc.spec.clusterIP).toBe('None');
      const grpcPort = svc.spec.ports.find((p) => p.name === 'grpc')!.port;
      const host = `${service}.warden.svc.cluster.local`;
      expect(common.data[variables[service]!]).toBe(`dns:///${host}:${grpcPort}`);
      // With mTLS the name dialled must be one the server's certificate carries.
      const certificate = named('Certificate', service) as unknown as {
        spec: { dnsNames: string[] };
      };
      expect(certificate.spec.dnsNames).toContain(host);
      // Connections age out (GOAWAY), so callers re-resolve and reach pods added by a scale-out.
      const config = parse(
        readFileSync(join(ROOT, 'services', service, 'config.yaml'), 'utf8'),
      ) as { grpc: { max_connection_age: string } };
      expect(config.grpc.max_connection_age).toBe('5m');
    }
    expect(common.data.WARDEN_GRPC_MAX_CONNECTION_AGE).toBeUndefined();
  });

  it('probes readiness (dependencies) apart from liveness, on servers and workers alike', () => {
    type Probe = { grpc: { port: number; service?: string } };
    type Probed = {
      env: Array<{ name: string; value: string }>;
      ports: Array<{ name: string; containerPort: number }>;
      readinessProbe: Probe;
      livenessProbe: Probe;
      startupProbe: Probe;
    };
    const workerHealthPorts = new Set<number>();
    for (const service of SERVICES) {
      for (const [name, variable] of [
        [service, 'WARDEN_GRPC_HEALTH_PORT'],
        [`${service}-worker`, 'WARDEN_WORKER_HEALTH_PORT'],
      ] as const) {
        const container = (
          named('Deployment', name) as unknown as {
            spec: { template: { spec: { containers: Probed[] } } };
          }
        ).spec.template.spec.containers[0]!;
        const port = Number(container.env.find((e) => e.name === variable)?.value);
        expect(port, name).toBeGreaterThan(0);
        expect(container.ports.find((p) => p.name === 'health')?.containerPort, name).toBe(port);
        // Readiness asks for "" (follows Postgres and NATS); liveness and startup for `liveness`.
        expect(container.readinessProbe.grpc, name).toEqual({ port });
        expect(container.livenessProbe.grpc, name).toEqual({ port, service: 'liveness' });
        expect(container.startupProbe.grpc, name).toEqual({ port, service: 'liveness' });
        if (name.endsWith('-worker')) workerHealthPorts.add(port);
      }
    }
    expect(workerHealthPorts.size).toBe(SERVICES.length);
  });

  it('runs mTLS in production: probes on the plaintext health port, certificates and keys from Secrets', () => {
    const common = named('ConfigMap', 'warden-common') as unknown as {
      data: Record<string, string>;
    };
    expect(common.data.NODE_ENV).toBe('production');
    expect(common.data.WARDEN_GRPC_TLS_ENABLED).toBe('true');
    expect(common.data.WARDEN_GRPC_REFLECTION).toBe('false');
    expect(common.data.WARDEN_GRPC_ALLOW_INSECURE).toBeUndefined();
    expect(common.data.WARDEN_AUTH_ALLOWED_SERVICES!.split(',')).toEqual(
      SERVICES.concat('gateway'),
    );
    for (const service of SERVICES) {
      const pod = (
        named('Deployment', service) as unknown as {
          spec: { template: { spec: PodSpec } };
        }
      ).spec.template.spec;
      const container = pod.containers[0]!;
      const healthPort = Number(
        container.env.find((e) => e.name === 'WARDEN_GRPC_HEALTH_PORT')?.value,
      );
      expect(healthPort, service).toBeGreaterThan(0);
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'] as const)
        expect(container[probe].grpc.port, `${service} ${probe}`).toBe(healthPort);
      const secrets = pod.volumes.map((v) => v.secret.secretName);
      expect(
        secrets.some((name) => name.startsWith(`warden-${service}-tls`)),
        service,
      ).toBe(true);
      expect(secrets.some((name) => name.startsWith(`warden-${service}-service-keys`))).toBe(true);
      const certificate = named('Certificate', service) as unknown as {
        spec: { commonName: string; secretName: string; usages: string[] };
      };
      expect(certificate.spec.commonName).toBe(service);
      expect(certificate.spec.secretName).toBe(`warden-${service}-tls`);
      expect(certificate.spec.usages).toEqual(
        expect.arrayContaining(['server auth', 'client auth']),
      );
    }
  });

  it('gives every server its idempotency secret from its Secret, long enough for production', () => {
    for (const service of SERVICES) {
      const container = (
        named('Deployment', service) as unknown as {
          spec: {
            template: {
              spec: { containers: Array<{ envFrom: Array<{ secretRef?: { name: string } }> }> };
            };
          };
        }
      ).spec.template.spec.containers[0]!;
      const secretName = container.envFrom.find((e) => e.secretRef)?.secretRef?.name ?? '';
      expect(secretName, service).toMatch(new RegExp(`^warden-${service}-[a-z0-9]+$`));
      const secret = objects.find(
        (o) => o.kind === 'Secret' && o.metadata.name === secretName,
      ) as unknown as { data: Record<string, string> };
      const value = Buffer.from(secret.data.WARDEN_IDEMPOTENCY_SECRET ?? '', 'base64').toString();
      expect(value.length, service).toBeGreaterThanOrEqual(32);
    }
  });

  it('runs a 3-node NATS JetStream cluster', () => {
    const nats = named('StatefulSet', 'nats') as unknown as { spec: { replicas: number } };
    expect(nats.spec.replicas).toBe(3);
    const config = named('ConfigMap', 'nats-config') as unknown as { data: Record<string, string> };
    expect(config.data['nats.conf']).toMatch(/jetstream/);
    expect(config.data['nats.conf']).toMatch(/nats-route:\/\/nats-2\.nats:6222/);
  });
});

interface PodSpec {
  containers: Array<{
    env: Array<{ name: string; value: string }>;
    readinessProbe: { grpc: { port: number } };
    livenessProbe: { grpc: { port: number } };
    startupProbe: { grpc: { port: number } };
  }>;
  volumes: Array<{ secret: { secretName: string } }>;
}
