import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STREAM_DEFAULTS, STREAMS } from '@warden/events';
import { createTestPki, NATS_USERS, passwordVariableOf } from '@warden/testing';
import { describe, expect, it } from 'vitest';
import { renderDevOverlay } from './kustomize.js';
import { parse } from 'yaml';

// NATS runs with warden's users and permissions everywhere: one permission file (deploy/nats, its
// k8s copy kept equal), passwords from the environment, streams made by ops only.
const ROOT = join(import.meta.dirname, '..', '..');
const NATS_DIR = join(ROOT, 'deploy', 'nats');
const K8S_BASE = join(ROOT, 'deploy', 'k8s', 'base');
const AUTH = readFileSync(join(NATS_DIR, 'warden-auth.conf'), 'utf8');
const SERVER = '/usr/sbin/nats-server';
const CONTEXTS = { 'user-service': 'user', 'session-service': 'session', 'authz-service': 'authz' };
const passwords = Object.fromEntries(NATS_USERS.map((u) => [passwordVariableOf(u), `pw-${u}`]));

/** The quoted subjects of `user`'s publish or subscribe allow list in warden-auth.conf. */
function allowed(user: string, direction: 'publish' | 'subscribe'): string[] {
  const block = AUTH.slice(AUTH.indexOf(`user: ${user}\n`));
  const end = block.indexOf('\n    }\n');
  const section = block.slice(block.indexOf(`${direction}: {`), end);
  const allow = section.slice(section.indexOf('allow:'), section.indexOf(']') + 1);
  return [...allow.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

function configTest(config: string, env: Record<string, string>) {
  return spawnSync(SERVER, ['-t', '-c', config], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
}

describe('deploy/nats/warden-auth.conf', () => {
  it.each(Object.entries(CONTEXTS))(
    '%s publishes only its own context and reads, never configures, streams',
    (user, context) => {
      const publish = allowed(user, 'publish');
      expect(publish).toContain(`warden.${context}.v1.>`);
      expect(publish.filter((s) => s.startsWith('warden.'))).toEqual([`warden.${context}.v1.>`]);
      expect(publish.filter((s) => /^\$JS\.API\.STREAM\./.test(s))).toEqual(
        publish.filter((s) => /^\$JS\.API\.STREAM\.INFO\.WARDEN_[A-Z]+$/.test(s)),
      );
      expect(publish).toContain(`$JS.API.STREAM.INFO.WARDEN_${context.toUpperCase()}`);
      expect(publish.some((s) => s === '>' || s === '$JS.API.>' || s.includes('DELETE'))).toBe(
        false,
      );
      // Durable (acked) consumers on WARDEN_USER, and authz-service's on WARDEN_SESSION (bound
      // grants lapse with their session); session-service's WatchRevocations also reads
      // WARDEN_SESSION and WARDEN_AUTHZ with ordered consumers, which never ack.
      const readOnly =
        user === 'session-service'
          ? /\.WARDEN_(USER|SESSION|AUTHZ)\./
          : user === 'authz-service'
            ? /\.WARDEN_(USER|SESSION)\./
            : /\.WARDEN_USER\./;
      const acked = user === 'authz-service' ? /\.WARDEN_(USER|SESSION)\./ : /\.WARDEN_USER\./;
      for (const subject of publish.filter((s) => s.includes('CONSUMER')))
        expect(subject, user).toMatch(readOnly);
      for (const subject of publish.filter((s) => s.startsWith('$JS.ACK')))
        expect(subject, user).toMatch(acked);
      // Replies on its own inbox prefix: no service reads another's API answers.
      expect(allowed(user, 'subscribe').filter((s) => s.startsWith('_INBOX'))).toEqual([
        `_INBOX.${user}.>`,
      ]);
    },
  );

  it('gives ops JetStream administration but no voice on any warden subject', () => {
    const ops = AUTH.slice(AUTH.indexOf('user: ops\n'));
    expect(ops).toMatch(/publish: \{ allow: \[">"\], deny: \["warden\.>"\] \}/);
  });

  it.skipIf(!existsSync(SERVER))(
    'is valid for nats-server 2.9 with the passwords set, and refuses to start without one',
    () => {
      const ok = configTest(join(NATS_DIR, 'nats-server.conf'), passwords);
      expect(ok.stderr + ok.stdout).toMatch(/configuration file .* is valid/);
      const { NATS_PASSWORD_OPS: _, ...missing } = passwords;
      const refused = configTest(join(NATS_DIR, 'nats-server.conf'), missing);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/NATS_PASSWORD_OPS/);
      // The k8s cluster config, with its include beside it as the ConfigMap mounts them, and a
      // certificate where the Secret warden-nats-tls is mounted.
      const dir = mkdtempSync(join(tmpdir(), 'warden-nats-k8s-'));
      const pki = createTestPki();
      const certificate = pki.issue('nats-0.nats');
      copyFileSync(certificate.certFile, join(dir, 'tls.crt'));
      copyFileSync(certificate.keyFile, join(dir, 'tls.key'));
      copyFileSync(certificate.caFile, join(dir, 'ca.crt'));
      pki.remove();
      const clusterConf = readFileSync(join(K8S_BASE, 'nats-cluster.conf'), 'utf8');
      expect(clusterConf).toContain('/etc/nats-tls/');
      writeFileSync(join(dir, 'nats.conf'), clusterConf.replaceAll('/etc/nats-tls/', `${dir}/`));
      copyFileSync(join(K8S_BASE, 'nats-auth.conf'), join(dir, 'warden-auth.conf'));
      const cluster = configTest(join(dir, 'nats.conf'), { ...passwords, POD_NAME: 'nats-0' });
      expect(cluster.stderr + cluster.stdout).toMatch(/configuration file .* is valid/);
    },
  );

  it('is the file the k8s ConfigMap carries, and so is the provisioning script', () => {
    expect(readFileSync(join(K8S_BASE, 'nats-auth.conf'), 'utf8')).toBe(AUTH);
    expect(readFileSync(join(K8S_BASE, 'nats-provision-streams.sh'), 'utf8')).toBe(
      readFileSync(join(NATS_DIR, 'provision-streams.sh'), 'utf8'),
    );
    expect(readFileSync(join(K8S_BASE, 'nats-cluster.conf'), 'utf8')).toMatch(
      /^include \.\/warden-auth\.conf$/m,
    );
  });
});

describe('deploy/nats/provision-streams.sh', () => {
  const script = readFileSync(join(NATS_DIR, 'provision-streams.sh'), 'utf8');

  it('makes the streams the services expect, with their retention and dedupe window', () => {
    const made = [...script.matchAll(/^stream (\S+) '([^']+)'$/gm)].map((m) => ({
      name: m[1],
      subjects: [m[2]],
    }));
    expect(made).toEqual(Object.values(STREAMS));
    expect(STREAM_DEFAULTS).toEqual({ maxAgeMs: 7 * 86_400_000, duplicateWindowMs: 120_000 });
    expect(script.match(/--max-age 7d --dupe-window 2m/g)).toHaveLength(2);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<
      string,
      { command?: string[]; environment?: Record<string, string>; volumes?: string[] }
    >;
  };

  it('runs nats-server with warden users, passwords from the environment', () => {
    const nats = compose.services.nats!;
    expect(nats.command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf']));
    expect(nats.volumes).toContain('./deploy/nats:/etc/nats:ro');
    expect(Object.keys(nats.environment!).sort()).toEqual(
      NATS_USERS.map(passwordVariableOf).sort(),
    );
    const provision = compose.services['nats-provision']!;
    expect(provision.command).toEqual(['sh', '/etc/nats/provision-streams.sh']);
    expect(provision.environment!.NATS_USER).toBe('ops');
  });

  it('connects every process of a service as that service', () => {
    for (const [service, context] of Object.entries(CONTEXTS))
      for (const role of [service, `${context}-worker`, `${context}-migrate`]) {
        const env = compose.services[role]!.environment!;
        expect(env.WARDEN_NATS_USER, role).toBe(service);
        expect(env.WARDEN_NATS_PASSWORD, role).toContain(
          passwordVariableOf(service as keyof typeof CONTEXTS),
        );
      }
  });
});

describe('deploy/k8s NATS (kubectl kustomize, offline)', () => {
  const objects = renderDevOverlay();
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name.startsWith(name))!;
  const secret = (name: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(find('Secret', name).data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(v, 'base64').toString(),
      ]),
    );

  it('feeds the nats StatefulSet the users passwords from a Secret, and mounts the permissions', () => {
    const nats = find('StatefulSet', 'nats').spec!.template.spec.containers[0]!;
    const secretName = nats.envFrom!.find((e) => e.secretRef)!.secretRef!.name;
    expect(secretName).toMatch(/^warden-nats-/);
    expect(Object.keys(secret(secretName)).sort()).toEqual(
      NATS_USERS.map(passwordVariableOf).sort(),
    );
    expect(find('ConfigMap', 'nats-config').data!['warden-auth.conf']).toBe(AUTH);
  });

  it('connects each Deployment and Job as its service, with the password the server expects', () => {
    const server = secret('warden-nats');
    for (const service of Object.keys(CONTEXTS)) {
      const workloads = objects.filter(
        (o) =>
          (o.kind === 'Deployment' || o.kind === 'Job') &&
          o.metadata.labels?.['app.kubernetes.io/name'] === service,
      );
      expect(workloads).toHaveLength(3);
      for (const workload of workloads) {
        const container = workload.spec!.template.spec.containers[0]!;
        const user = container.env!.find((e) => e.name === 'WARDEN_NATS_USER')?.value;
        expect(user, workload.metadata.name).toBe(service);
        const own = container.envFrom!.find((e) => e.secretRef)!.secretRef!.name;
        expect(secret(own).WARDEN_NATS_PASSWORD, workload.metadata.name).toBe(
          server[passwordVariableOf(service as keyof typeof CONTEXTS)],
        );
      }
    }
  });

  it('runs clients and routes over TLS with warden-ca certificates', () => {
    const cluster = readFileSync(join(K8S_BASE, 'nats-cluster.conf'), 'utf8');
    const clientTls = cluster.slice(cluster.indexOf('\ntls {'), cluster.indexOf('\ncluster {'));
    expect(clientTls).toMatch(/verify: true/);
    const routeTls = cluster.slice(cluster.indexOf('\ncluster {'));
    expect(routeTls).toMatch(/verify_cert_and_check_known_urls: true/);
    const certificate = find('Certificate', 'nats') as unknown as {
      spec: { secretName: string; dnsNames: string[]; issuerRef: { name: string } };
    };
    expect(certificate.spec.secretName).toBe('warden-nats-tls');
    expect(certificate.spec.issuerRef.name).toBe('warden-ca');
    const routeHosts = [...cluster.matchAll(/nats-route:\/\/([^:]+):6222/g)].map((m) => m[1]!);
    expect(routeHosts).toEqual(['nats-0.nats', 'nats-1.nats', 'nats-2.nats']);
    expect(certificate.spec.dnsNames).toEqual(expect.arrayContaining(routeHosts));
    const common = find('ConfigMap', 'warden-common').data!;
    expect(common).toMatchObject({
      WARDEN_NATS_TLS_ENABLED: 'true',
      WARDEN_NATS_TLS_CA_FILE: '/etc/warden/tls/ca.crt',
      WARDEN_NATS_TLS_CERT_FILE: '/etc/warden/tls/tls.crt',
      WARDEN_NATS_TLS_KEY_FILE: '/etc/warden/tls/tls.key',
    });
    const job = find('Job', 'nats-provision').spec!.template.spec.containers[0]!;
    expect(job.env!.map((e) => e.name)).toEqual(
      expect.arrayContaining(['NATS_CERT', 'NATS_KEY', 'NATS_CA']),
    );
  });

  it('provisions the streams as ops with 3 replicas, and fences the route and client ports', () => {
    const job = find('Job', 'nats-provision').spec!.template.spec.containers[0]!;
    const env = Object.fromEntries(job.env!.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ NATS_USER: 'ops', REPLICAS: '3' });
    const policy = find('NetworkPolicy', 'nats') as unknown as {
      spec: { ingress: Array<{ from?: unknown[]; ports: Array<{ port: number }> }> };
    };
    const route = policy.spec.ingress.find((rule) => rule.ports.some((p) => p.port === 6222))!;
    expect(route.from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'nats' } } },
    ]);
    const client = policy.spec.ingress.find((rule) => rule.ports.some((p) => p.port === 4222))!;
    expect(client.from).toHaveLength(1);
  });
});
