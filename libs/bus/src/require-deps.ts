/** Constructors refuse a missing dependency at wiring time, not at the first request. */
export function requireDeps<T extends object>(owner: string, deps: T): T {
  for (const [name, value] of Object.entries(deps)) {
    if (value === undefined || value === null) throw new Error(`${owner} needs ${name}`);
  }
  return deps;
}
