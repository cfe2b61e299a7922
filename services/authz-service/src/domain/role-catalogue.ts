import { roleCycle, roleInUse, roleNotFound } from '../errors.js';
import { GrantIndex } from './grant-index.js';
import type { Role } from './role.js';

/**
 * Every role by name, with each role's permissions flattened over its inheritance. Immutable:
 * a change gives a new catalogue, so a reader never sees half an update.
 */
export class RoleCatalogue {
  private readonly roles: ReadonlyMap<string, Role>;
  private readonly effective = new Map<string, GrantIndex>();
  private readonly closures = new Map<string, readonly string[]>();

  constructor(roles: Iterable<Role>) {
    this.roles = new Map([...roles].map((role) => [role.name, role]));
  }

  get(name: string): Role | undefined {
    return this.roles.get(name);
  }

  has(name: string): boolean {
    return this.roles.has(name);
  }

  list(): Role[] {
    return [...this.roles.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  with(role: Role): RoleCatalogue {
    return new RoleCatalogue([...this.roles.values(), role]);
  }

  without(name: string): RoleCatalogue {
    return new RoleCatalogue([...this.roles.values()].filter((role) => role.name !== name));
  }

  /** The role and every role it inherits, transitively, sorted by name. */
  closure(name: string): readonly string[] {
    let names = this.closures.get(name);
    if (!names) {
      const seen = new Set<string>();
      this.walk(name, seen);
      names = [...seen].sort();
      this.closures.set(name, names);
    }
    return names;
  }

  /** The role's own and inherited grants; undefined for an unknown role. */
  grantsOf(name: string): GrantIndex | undefined {
    let index = this.effective.get(name);
    if (!index && this.roles.has(name)) {
      index = new GrantIndex();
      // Nearest roles first, so a reason names the closest role that grants something.
      for (const member of this.nearestFirst(name)) {
        for (const grant of this.roles.get(member)?.permissions ?? []) index.add(grant, member);
      }
      this.effective.set(name, index);
    }
    return index;
  }

  /** Refuses a role whose inherited roles are missing or lead back to it. */
  assertInheritable(role: Role): void {
    for (const parent of role.inherits) {
      if (parent !== role.name && !this.roles.has(parent)) throw roleNotFound(parent);
    }
    const candidate = this.with(role);
    for (const parent of role.inherits) {
      const path = candidate.pathTo(parent, role.name, [role.name]);
      if (path) throw roleCycle(role.name, path);
    }
  }

  /** Refuses to delete a role that other roles inherit. */
  assertNotInherited(name: string): void {
    const heirs = [...this.roles.values()]
      .filter((role) => role.inherits.includes(name))
      .map((role) => role.name);
    if (heirs.length > 0) throw roleInUse(name, heirs.sort());
  }

  private pathTo(
    from: string,
    target: string,
    path: string[],
    seen = new Set<string>(),
  ): string[] | undefined {
    const here = [...path, from];
    if (from === target) return here;
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const parent of this.roles.get(from)?.inherits ?? []) {
      const found = this.pathTo(parent, target, here, seen);
      if (found) return found;
    }
    return undefined;
  }

  /** The role, then what it inherits breadth-first, each once. */
  private nearestFirst(name: string): string[] {
    const order = [name];
    for (let i = 0; i < order.length; i++) {
      for (const parent of this.roles.get(order[i]!)?.inherits ?? []) {
        if (this.roles.has(parent) && !order.includes(parent)) order.push(parent);
      }
    }
    return order;
  }

  private walk(name: string, seen: Set<string>): void {
    // `seen` also stops a cycle that reached the database some other way from looping for ever.
    if (seen.has(name) || !this.roles.has(name)) return;
    seen.add(name);
    for (const parent of this.roles.get(name)!.inherits) this.walk(parent, seen);
  }
}
