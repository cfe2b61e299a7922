import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';

type Tree = { [key: string]: unknown };

/** The path of the one map-valued key that can also be given whole, and of the file that can hold it. */
export const SERVICE_KEYS_PATH = 'auth.service_keys';
export const SERVICE_KEYS_FILE_PATH = 'auth.service_keys_file';
/** Production refuses keys that start with this (the public keys in config.yaml) or are shorter. */
export const DEV_KEY_PREFIX = 'dev-key-';
export const MIN_PRODUCTION_KEY_LENGTH = 24;

/**
 * `auth.service_keys` whole, from `WARDEN_AUTH_SERVICE_KEYS` (a JSON object) or from the file
 * named by `auth.service_keys_file` (YAML or JSON): either replaces config.yaml's map entirely,
 * so no dev key survives. Giving both, or either with a per-caller variable, is refused as ambiguous.
 * Messages name variables and paths, never the secret values.
 */
export function applyWholeServiceKeys(
  merged: Tree,
  env: NodeJS.ProcessEnv,
  sources: Map<string, string>,
  envName: (path: string) => string,
): void {
  const auth = merged.auth as Tree | undefined;
  if (!auth || typeof auth !== 'object') return;
  const variable = envName(SERVICE_KEYS_PATH);
  const fromEnv = env[variable];
  const file = typeof auth.service_keys_file === 'string' ? auth.service_keys_file.trim() : '';
  const fileSource = sources.get(SERVICE_KEYS_FILE_PATH) ?? SERVICE_KEYS_FILE_PATH;
  if (fromEnv === undefined && file === '') return;
  if (fromEnv !== undefined && file !== '')
    throw new ConfigError(
      `config: ${SERVICE_KEYS_PATH}: set either ${variable} or ${fileSource}, not both`,
    );
  const perCaller = [...sources.entries()].filter(([path]) =>
    path.startsWith(`${SERVICE_KEYS_PATH}.`),
  );
  if (perCaller.length > 0)
    throw new ConfigError(
      `config: ${SERVICE_KEYS_PATH}: ${perCaller[0]![1]} cannot be combined with the whole map from ${fromEnv !== undefined ? variable : fileSource}`,
    );
  if (fromEnv !== undefined) {
    auth.service_keys = parseKeyMap(() => JSON.parse(fromEnv) as unknown, `${variable}`, 'JSON');
    sources.set(SERVICE_KEYS_PATH, variable);
    return;
  }
  const text = readKeysFile(file, fileSource);
  auth.service_keys = parseKeyMap(
    () => parseYaml(text) as unknown,
    `${fileSource} (${file})`,
    'YAML or JSON',
  );
  sources.set(SERVICE_KEYS_PATH, `${fileSource} (${file})`);
}

function readKeysFile(file: string, source: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`config: ${source}: cannot read ${file} (${code})`);
  }
}

/** Parser messages quote the input, which is a secret here: only the shape is reported. */
function parseKeyMap(parse: () => unknown, origin: string, format: string): Tree {
  let value: unknown;
  try {
    value = parse();
  } catch {
    value = undefined;
  }
  const isMap = value !== null && typeof value === 'object' && !Array.isArray(value);
  const isKeys = (keys: unknown) =>
    typeof keys === 'string' ||
    (Array.isArray(keys) && keys.every((key) => typeof key === 'string'));
  if (!isMap || !Object.values(value as Tree).every(isKeys))
    throw new ConfigError(
      `config: ${SERVICE_KEYS_PATH} (from ${origin}): must be ${format} mapping each calling service's name to its key (or a list of keys)`,
    );
  return value as Tree;
}

interface AuthLike {
  service_keys: Record<string, string | readonly string[]>;
  client_key: string;
}

/** Why a key cannot be used in production, or undefined. */
function weakness(key: string): string | undefined {
  if (key.startsWith(DEV_KEY_PREFIX)) return `a public ${DEV_KEY_PREFIX}* key`;
  if (key.length < MIN_PRODUCTION_KEY_LENGTH)
    return `shorter than ${MIN_PRODUCTION_KEY_LENGTH} characters`;
  return undefined;
}

/**
 * With NODE_ENV=production a service must not accept (or present) a dev or short key. Keys are
 * used only while grpc.tls is off: with mTLS the certificate is the identity and keys are ignored.
 */
/** With mTLS the allowed CNs are the only callers: an empty list would refuse every one of them. */
export function checkAllowedServices(config: {
  auth?: { allowed_services?: readonly string[] };
  grpc?: { tls?: { enabled?: boolean } };
}): void {
  if (config.grpc?.tls?.enabled && config.auth && (config.auth.allowed_services ?? []).length === 0)
    throw new ConfigError(
      'config: auth.allowed_services (set WARDEN_AUTH_ALLOWED_SERVICES): required when grpc.tls.enabled',
    );
}

export function checkProductionKeys(
  config: { auth?: AuthLike; grpc?: { tls?: { enabled?: boolean } } },
  env: NodeJS.ProcessEnv,
  sources: Map<string, string>,
): void {
  if (env.NODE_ENV !== 'production' || !config.auth || config.grpc?.tls?.enabled) return;
  const refused = Object.entries(config.auth.service_keys)
    .flatMap(([caller, keys]) =>
      (typeof keys === 'string' ? [keys] : keys).map((key) => [caller, key]),
    )
    .map(([caller, key]) => [caller, weakness(key!)] as const)
    .filter(([, why]) => why !== undefined)
    .map(([caller, why]) => `${caller} (${why})`);
  if (refused.length > 0) {
    const from = sources.get(SERVICE_KEYS_PATH);
    throw new ConfigError(
      `config: ${SERVICE_KEYS_PATH}${from ? ` (from ${from})` : ''}: NODE_ENV=production refuses the key of ${refused.join(', ')}`,
    );
  }
  const own = weakness(config.auth.client_key);
  if (own) {
    const from = sources.get('auth.client_key');
    throw new ConfigError(
      `config: auth.client_key${from ? ` (from ${from})` : ''}: NODE_ENV=production refuses this service's own key (${own})`,
    );
  }
}

/**
 * With NODE_ENV=production, gRPC in plaintext (service keys and bearer tokens readable on the wire)
 * needs an explicit grpc.allow_insecure: only behind a mesh that does mTLS (Istio, Linkerd).
 */
export function checkProductionTransport(
  config: { grpc?: { allow_insecure?: boolean; tls?: { enabled?: boolean } } },
  env: NodeJS.ProcessEnv,
): void {
  if (env.NODE_ENV !== 'production' || !config.grpc) return;
  if (config.grpc.tls?.enabled || config.grpc.allow_insecure) return;
  throw new ConfigError(
    'config: grpc.tls.enabled (set WARDEN_GRPC_TLS_ENABLED): NODE_ENV=production refuses plaintext gRPC; turn on mTLS, or set WARDEN_GRPC_ALLOW_INSECURE=true only behind a mesh that does mTLS',
  );
}
