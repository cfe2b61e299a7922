import { AppError, alreadyExists, failedPrecondition, notFound } from '@warden/errors';

export const roleNotFound = (name: string): AppError =>
  notFound('ROLE_NOT_FOUND', `role ${name} does not exist`, { role: name });

export const roleAlreadyExists = (name: string): AppError =>
  alreadyExists('ROLE_ALREADY_EXISTS', `role ${name} already exists`, { role: name });

export const roleCycle = (name: string, path: readonly string[]): AppError =>
  failedPrecondition('ROLE_CYCLE', `role ${name} would inherit itself: ${path.join(' -> ')}`, {
    role: name,
  });

export const builtInRole = (name: string, why: string): AppError =>
  failedPrecondition('BUILT_IN_ROLE', `role ${name} is built in: ${why}`, { role: name });

export const roleInUse = (name: string, inheritedBy: readonly string[]): AppError =>
  failedPrecondition(
    'ROLE_IN_USE',
    `role ${name} is inherited by ${inheritedBy.join(', ')}; remove it from them first`,
    { role: name },
  );

/** The caller would hand out grants it does not hold; which ones goes to the log only. */
export const escalationDenied = (what: string, notHeld: readonly string[]): AppError =>
  new AppError('PERMISSION_DENIED', 'ESCALATION_DENIED', `${what} grants more than you hold`, {
    cause: `not held by the caller: ${notHeld.join(', ')}`,
  });

export const lastAdmin = (what: string): AppError =>
  failedPrecondition(
    'LAST_ADMIN',
    `${what} would leave no one holding *; give it to another subject first`,
  );
