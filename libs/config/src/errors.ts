/** A configuration that cannot start a service; its message names the key and where it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
