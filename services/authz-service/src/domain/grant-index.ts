import { parseGrant, resourceOf } from './permission.js';

/** Where an effective grant comes from: the grant as written and the role that declares it. */
export interface GrantOrigin {
  grant: string;
  role: string;
}

export interface GrantMatch {
  /** A grant that allows whatever the resource's owner. */
  unscoped?: GrantOrigin;
  /** An `:own` grant: allows only when the owner is the subject. */
  own?: GrantOrigin;
  /** The same two written with `@aal2`: they allow only at assurance level AAL2. */
  unscopedAal2?: GrantOrigin;
  ownAal2?: GrantOrigin;
}

type Slot = GrantMatch;

/**
 * A role's effective grants (its own and inherited ones), indexed so that a check is three map
 * lookups whatever the number of grants: exact permission, `<resource>.*`, then `*`.
 */
export class GrantIndex {
  private readonly everything: Slot = {};
  private readonly byResource = new Map<string, Slot>();
  private readonly byPermission = new Map<string, Slot>();
  private readonly texts = new Set<string>();

  add(grant: string, role: string): void {
    if (this.texts.has(grant)) return;
    this.texts.add(grant);
    const parsed = parseGrant(grant);
    const origin = { grant, role };
    const slot =
      parsed.resource === '*'
        ? this.everything
        : parsed.action === '*'
          ? slotIn(this.byResource, parsed.resource)
          : slotIn(this.byPermission, `${parsed.resource}.${parsed.action}`);
    if (parsed.aal2) {
      if (parsed.own) slot.ownAal2 ??= origin;
      else slot.unscopedAal2 ??= origin;
    } else if (parsed.own) slot.own ??= origin;
    else slot.unscoped ??= origin;
  }

  /** The most specific grants of each kind covering `permission` (a well-formed one). */
  match(permission: string): GrantMatch {
    const exact = this.byPermission.get(permission);
    const resource = this.byResource.get(resourceOf(permission));
    const all = this.everything;
    return {
      unscoped: exact?.unscoped ?? resource?.unscoped ?? all.unscoped,
      own: exact?.own ?? resource?.own ?? all.own,
      unscopedAal2: exact?.unscopedAal2 ?? resource?.unscopedAal2 ?? all.unscopedAal2,
      ownAal2: exact?.ownAal2 ?? resource?.ownAal2 ?? all.ownAal2,
    };
  }

  /** Every grant as written, sorted. */
  get grants(): string[] {
    return [...this.texts].sort();
  }
}

function slotIn(map: Map<string, Slot>, key: string): Slot {
  let slot = map.get(key);
  if (!slot) {
    slot = {};
    map.set(key, slot);
  }
  return slot;
}
