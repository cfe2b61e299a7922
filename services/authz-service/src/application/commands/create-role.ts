import { type CallContext, type IdempotencySpec, type UseCase, permissionOn } from '@warden/bus';
import { Violations } from '@warden/errors';
import { newRole, RoleCatalogue, type AuthzEvent, type Role } from '../../domain/index.js';
import { roleAlreadyExists } from '../../errors.js';
import { roleCodec, type Revised } from '../codecs.js';
import { assertMayHandOut, grantsOfCaller } from '../delegation.js';
import { checkRequestId, requireRoleName } from '../fields.js';
import { revisionAfter } from '../revisions.js';
import type { AuthzRepository, Clock, GrantsHeld, PolicyChangeListener } from '../ports.js';

export interface CreateRole {
  name: string;
  description: string;
  permissions: string[];
  inherits: string[];
  requestId?: string;
}

/** The role as created, and the revision of the write. */
export class CreateRoleHandler implements UseCase<CreateRole, Revised<Role>> {
  readonly name = 'CreateRole';
  readonly access = permissionOn<CreateRole>('role.create');
  readonly idempotency: IdempotencySpec<CreateRole, Revised<Role>> = {
    key: (input) => input.requestId || undefined,
    fingerprint: (input) =>
      JSON.stringify([input.name, input.description, input.permissions, input.inherits]),
    ...roleCodec,
  };

  constructor(
    private readonly repository: AuthzRepository,
    private readonly clock: Clock,
    private readonly listener: PolicyChangeListener,
    private readonly held: GrantsHeld,
  ) {}

  async execute(input: CreateRole, ctx: CallContext): Promise<Revised<Role>> {
    const violations = new Violations();
    requireRoleName(violations, 'role.name', input.name);
    checkRequestId(violations, input.requestId);
    violations.throwIfAny();
    const role = newRole(input, this.clock.now());
    const callerGrants = await grantsOfCaller(this.held, ctx);
    const events = await this.repository.updateCatalogue(async ({ roles }) => {
      const catalogue = new RoleCatalogue(roles);
      if (catalogue.has(role.name)) throw roleAlreadyExists(role.name);
      catalogue.assertInheritable(role);
      assertMayHandOut(
        callerGrants,
        [
          ...role.permissions,
          ...role.inherits.flatMap((parent) => catalogue.grantsOf(parent)!.grants),
        ],
        `role ${role.name}`,
      );
      const created: AuthzEvent[] = [{ type: 'role_created', role, occurTime: role.createTime }];
      return { saveRoles: [role], events: created, result: created };
    }, ctx);
    await this.listener.committed(events);
    return { value: role, revision: await revisionAfter(events, this.repository) };
  }
}
