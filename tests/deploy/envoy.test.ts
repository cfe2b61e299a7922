import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Envoy is not installable here: what can be checked without it is checked against the protos'
// own descriptor set (buf build, as the image builds it) and the config as Envoy would read it.
const ROOT = join(import.meta.dirname, '..', '..');
const SERVICES = [
  'warden.user.v1.UserService',
  'warden.session.v1.SessionService',
  'warden.authz.v1.AuthzService',
];
const VERBS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface HttpRule {
  get?: string;
  put?: string;
  post?: string;
  delete?: string;
  patch?: string;
  body?: string;
  additionalBindings?: HttpRule[];
}
interface Descriptor {
  file: Array<{
    package?: string;
    service?: Array<{
      name: string;
      method: Array<{ name: string; options?: { '[google.api.http]'?: HttpRule } }>;
    }>;
  }>;
}

const descriptor = JSON.parse(
  execFileSync(join(ROOT, 'node_modules', '.bin', 'buf'), ['build', '-o', '-#format=json'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }),
) as Descriptor;

/** Every (method, verb, path) binding of the three services, additional bindings included. */
function bindings() {
  const out: Array<{ method: string; verb: string; path: string; body?: string }> = [];
  const missing: string[] = [];
  for (const file of descriptor.file)
    for (const service of file.service ?? []) {
      const fullName = `${file.package}.${service.name}`;
      if (!SERVICES.includes(fullName)) continue;
      for (const method of service.method) {
        const rule = method.options?.['[google.api.http]'];
        if (!rule) {
          missing.push(`${fullName}/${method.name}`);
          continue;
        }
        for (const r of [rule, ...(rule.additionalBindings ?? [])]) {
          const verb = VERBS.find((v) => r[v] !== undefined)!;
          out.push({ method: `${fullName}/${method.name}`, verb, path: r[verb]!, body: r.body });
        }
      }
    }
  return { out, missing };
}

/** A path template as segments: `{var}` and `{var=*}` match one segment, `{var=**}` the rest. */
function segments(path: string): { parts: string[]; verb: string } {
  const withoutVars = path.replace(/\{[^}=]+(=([^}]+))?\}/g, (_, __, pattern) =>
    pattern === '**' ? '**' : '*',
  );
  const colon = withoutVars.lastIndexOf(':');
  const lastSlash = withoutVars.lastIndexOf('/');
  const verb = colon > lastSlash ? withoutVars.slice(colon + 1) : '';
  const route = colon > lastSlash ? withoutVars.slice(0, colon) : withoutVars;
  return { parts: route.split('/').filter(Boolean), verb };
}

/** Whether some request path matches both templates (Envoy could not tell them apart). */
function overlap(a: string, b: string): boolean {
  const x = segments(a);
  const y = segments(b);
  if (x.verb !== y.verb) return false;
  if (x.parts.includes('**') || y.parts.includes('**')) return true;
  if (x.parts.length !== y.parts.length) return false;
  return x.parts.every((p, i) => p === y.parts[i] || p === '*' || y.parts[i] === '*');
}

describe('google.api.http rules of the three services', () => {
  it('cover every RPC', () => {
    const { out, missing } = bindings();
    expect(missing).toEqual([]);
    expect(new Set(out.map((b) => b.method.split('/')[0])).size).toBe(3);
  });

  it('map each method to a verb and path no other method can match', () => {
    const { out } = bindings();
    const clashes: string[] = [];
    for (let i = 0; i < out.length; i++)
      for (let j = i + 1; j < out.length; j++) {
        const [a, b] = [out[i]!, out[j]!];
        if (a.verb === b.verb && overlap(a.path, b.path))
          clashes.push(`${a.verb.toUpperCase()} ${a.path} (${a.method}) ~ ${b.path} (${b.method})`);
      }
    expect(clashes).toEqual([]);
    // The gateway's own routes are there: GetJwks and WatchRevocations.
    expect(out).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          method: 'warden.session.v1.SessionService/GetJwks',
          verb: 'get',
        }),
        expect.objectContaining({
          method: 'warden.session.v1.SessionService/WatchRevocations',
          verb: 'get',
        }),
      ]),
    );
  });

  it('send bodies only with verbs that have one', () => {
    const { out } = bindings();
    expect(out.filter((b) => (b.verb === 'get' || b.verb === 'delete') && b.body)).toEqual([]);
  });
});

describe('deploy/envoy/envoy.yaml', () => {
  const config = parse(readFileSync(join(ROOT, 'deploy', 'envoy', 'envoy.yaml'), 'utf8'));
  const manager = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const filters = manager.http_filters as Array<{
    name: string;
    typed_config: { services: string[]; convert_grpc_status: boolean; proto_descriptor: string };
  }>;
  const transcoder = filters.find(
    (f) => f.name === 'envoy.filters.http.grpc_json_transcoder',
  )!.typed_config;
  const host = manager.route_config.virtual_hosts[0];

  it('transcodes the three services from the shipped descriptor set, gRPC errors as HTTP status', () => {
    expect(transcoder.services).toEqual(SERVICES);
    expect(transcoder.convert_grpc_status).toBe(true);
    expect(filters.at(-1)!.name).toBe('envoy.filters.http.router');
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'docker', 'envoy.Dockerfile'), 'utf8');
    expect(dockerfile).toContain(
      `COPY --from=descriptors /out/warden.binpb ${transcoder.proto_descriptor}`,
    );
    expect(dockerfile).toMatch(/buf@[\d.]+ build -o \/out\/warden\.binpb/);
    expect(dockerfile).toContain('COPY deploy/envoy/envoy.yaml /etc/envoy/envoy.yaml');
  });

  it('routes each service to its own HTTP/2 cluster', () => {
    type Cluster = {
      name: string;
      typed_extension_protocol_options: Record<
        string,
        { explicit_http_config: { http2_protocol_options: object } }
      >;
    };
    const clusters = Object.fromEntries(
      (config.static_resources.clusters as Cluster[]).map((c) => [c.name, c]),
    );
    const routes = host.routes as Array<{ match: { prefix: string }; route: { cluster: string } }>;
    expect(routes.map((r) => r.match.prefix)).toEqual(SERVICES.map((s) => `/${s}/`));
    for (const route of routes) {
      const cluster = clusters[route.route.cluster];
      expect(cluster, route.route.cluster).toBeDefined();
      expect(
        cluster!.typed_extension_protocol_options[
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
        ]!.explicit_http_config.http2_protocol_options,
      ).toEqual({});
    }
  });

  it('calls as the gateway: a client cannot bring its own service key', () => {
    expect(host.request_headers_to_remove).toEqual(['x-warden-service-key']);
    expect(host.request_headers_to_add).toEqual([
      {
        header: {
          key: 'x-warden-service-key',
          value: '%ENVIRONMENT(WARDEN_GATEWAY_SERVICE_KEY)%',
        },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ]);
  });
});
