import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

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
 * A bad value throws ONE ConfigError naming the key and the variable that set it.
 */
export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.infer<S> {
  const env = options.env ?? process.env;
  let defaults: Tree;
  try {
    defaults = (parseYaml(readFileSync(options.file, 'utf8')) ?? {}) as Tree;
  } catch (error) {
    throw new ConfigError(`config: cannot read ${options.file}: ${(error as Error).message}`);
  }
  const sources = new Map<string, string>();
  const merged = applyEnv(defaults, '', env, sources);
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
    const from = sources.get(path) ? ` (from ${sources.get(path)})` : ` (set ${envNameFor(path)})`;
    throw new ConfigError(`config: ${path || '<root>'}${from}: ${issue.message}`);
  }
  return result.data;
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
