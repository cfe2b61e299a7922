import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { SHARED_VARIABLES } from './sections.js';
import {
  applyWholeServiceKeys,
  checkAllowedServices,
  checkProductionKeys,
  checkProductionTransport,
  SERVICE_KEYS_PATH,
} from './service-keys.js';

export { ConfigError };

/**
 * WARDEN_* variables that configure tooling rather than a service (the config file's path, test,
 * benchmark and stack harnesses, profiling); every other WARDEN_* name must be a config key.
 */
export const NON_CONFIG_VARIABLES: { names: readonly string[]; prefixes: readonly string[] } = {
  names: ['WARDEN_CONFIG_FILE', 'WARDEN_CPU_PROFILE_DIR'],
  prefixes: ['WARDEN_TEST_', 'WARDEN_BENCH_', 'WARDEN_STACK_'],
};

export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S;
  /** Path of the service's config.yaml (defaults). */
  file: string;
  env?: NodeJS.ProcessEnv;
  /** Extra literal env names mapped to config paths, e.g. DATABASE_URL -> database.url. */
  aliases?: Record<string, string>;
}

type Tree = { [key: string]: unknown };

/** `grpc.port` -> `WARDEN_GRPC_PORT`. */
export function envNameFor(path: string): string {
  return `WARDEN_${path.replace(/[.-]/g, '_').toUpperCase()}`;
}

/**
 * Defaults from YAML, then WARDEN_* overrides for every key the YAML declares, validated once.
 * A bad value throws ONE ConfigError naming the key and the variable that set it; so does a
 * WARDEN_* variable that sets nothing (a typo must not leave a default silently in place).
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const env = options.env ?? process.env;
  let defaults: Tree;
  try {
    defaults = (parseYaml(readFileSync(options.file, 'utf8')) ?? {}) as Tree;
  } catch (error) {
    throw new ConfigError(`config: cannot read ${options.file}: ${(error as Error).message}`);
  }
  const known = new Set<string>([envNameFor(SERVICE_KEYS_PATH), ...SHARED_VARIABLES]);
  collectNames(defaults, '', known);
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('WARDEN_') && !known.has(name) && !isNonConfig(name))
    .sort();
  if (unknown.length > 0)
    throw new ConfigError(
      `config: unknown variable ${unknown.join(', ')} (not a key of ${options.file})`,
    );
  const sources = new Map<string, string>();
  const merged = applyEnv(defaults, '', env, sources);
  applyWholeServiceKeys(merged, env, sources, envNameFor);
  for (const [name, path] of Object.entries(options.aliases ?? {})) {
    const raw = env[name];
    if (raw !== undefined && raw !== '' && env[envNameFor(path)] === undefined) {
      setPath(merged, path, raw);
      sources.set(path, name);
    }
  }
  const result = options.schema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.join('.');
    const source = sourceOf(sources, issue.path.map(String));
    const from = source ? ` (from ${source})` : ` (set ${envNameFor(path)})`;
    throw new ConfigError(`config: ${path || '<root>'}${from}: ${issue.message}`);
  }
  checkAllowedServices(result.data as Parameters<typeof checkAllowedServices>[0]);
  checkProductionKeys(result.data as Parameters<typeof checkProductionKeys>[0], env, sources);
  checkProductionTransport(result.data as Parameters<typeof checkProductionTransport>[0], env);
  return result.data;
}

/** Who set `path`, or the map it belongs to (a key given whole by WARDEN_AUTH_SERVICE_KEYS). */
function sourceOf(sources: Map<string, string>, path: string[]): string | undefined {
  for (let length = path.length; length > 0; length--) {
    const source = sources.get(path.slice(0, length).join('.'));
    if (source) return source;
  }
  return undefined;
}

const isNonConfig = (name: string): boolean =>
  NON_CONFIG_VARIABLES.names.includes(name) ||
  NON_CONFIG_VARIABLES.prefixes.some((prefix) => name.startsWith(prefix));

/** The WARDEN_* name of every leaf key the YAML declares. */
function collectNames(node: Tree, prefix: string, into: Set<string>): void {
  for (const [key, value] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      collectNames(value as Tree, path, into);
    else into.add(envNameFor(path));
  }
}

function applyEnv(
  node: Tree,
  prefix: string,
  env: NodeJS.ProcessEnv,
  sources: Map<string, string>,
): Tree {
  const out: Tree = {};
  for (const [key, value] of Object.entries(node)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = applyEnv(value as Tree, path, env, sources);
      continue;
    }
    const name = envNameFor(path);
    const raw = env[name];
    if (raw === undefined) {
      out[key] = value;
    } else {
      out[key] = coerce(raw, value);
      sources.set(path, name);
    }
  }
  return out;
}

/** Env strings take the shape of the default they replace; validation still has the last word. */
function coerce(raw: string, defaultValue: unknown): unknown {
  if (typeof defaultValue === 'number' && raw.trim() !== '' && !Number.isNaN(Number(raw)))
    return Number(raw);
  if (typeof defaultValue === 'boolean' && /^(true|false)$/i.test(raw))
    return raw.toLowerCase() === 'true';
  if (Array.isArray(defaultValue) && raw.trim().startsWith('[')) {
    try {
      return parseYaml(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    node[key] = (node[key] as Tree | undefined) ?? {};
    node = node[key] as Tree;
  }
  node[keys.at(-1)!] = value;
}
