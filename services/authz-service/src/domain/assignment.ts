import { invalidArgument } from '@warden/errors';

export interface RoleAssignment {
  subjectId: string;
  role: string;
  /** Unset for a permanent grant. */
  expireTime?: Date;
  /** When the role was (last) assigned. */
  createTime: Date;
}

/** What a decision needs of an assignment: which role, and until when. */
export type HeldRole = Pick<RoleAssignment, 'role' | 'expireTime'>;

/** A grant lapses at its expire_time by itself, whether or not a sweeper has removed it yet. */
export const isActive = (assignment: HeldRole, now: Date): boolean =>
  assignment.expireTime === undefined || assignment.expireTime.getTime() > now.getTime();

export function newAssignment(
  input: { subjectId: string; role: string; expireTime?: Date },
  now: Date,
): RoleAssignment {
  if (input.expireTime !== undefined && input.expireTime.getTime() <= now.getTime()) {
    throw invalidArgument([{ field: 'expire_time', description: 'must be in the future' }]);
  }
  return {
    subjectId: input.subjectId,
    role: input.role,
    ...(input.expireTime === undefined ? {} : { expireTime: input.expireTime }),
    createTime: now,
  };
}
