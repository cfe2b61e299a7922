import type { AuditPage, ListAuditEventsInput, UseCase } from '@warden/bus';
import type { ChangePasswordHandler } from './commands/change-password.js';
import type { ConfirmTotpHandler } from './commands/confirm-totp.js';
import type { DeleteUserHandler } from './commands/delete-user.js';
import type { RegisterUserHandler } from './commands/register-user.js';
import type { DisableUserHandler } from './commands/disable-user.js';
import type { EnrollTotpHandler } from './commands/enroll-totp.js';
import type { EnableUserHandler } from './commands/enable-user.js';
import type { RemoveTotpHandler } from './commands/remove-totp.js';
import type { UpdateUserHandler } from './commands/update-user.js';
import type { VerifyCredentialsHandler } from './commands/verify-credentials.js';
import type { VerifySecondFactorHandler } from './commands/verify-second-factor.js';
import type { ImportUsersHandler } from './commands/import-users.js';
import type { RequestEmailVerificationHandler } from './commands/request-email-verification.js';
import type { RequestPasswordResetHandler } from './commands/request-password-reset.js';
import type { ResetPasswordHandler } from './commands/reset-password.js';
import type { VerifyEmailHandler } from './commands/verify-email.js';
import type { GetUserHandler } from './queries/get-user.js';
import type { ListUsersHandler } from './queries/list-users.js';

/** Every use case of the service, one per RPC; the inbound adapters run them through the bus. */
export interface UseCases {
  registerUser: RegisterUserHandler;
  getUser: GetUserHandler;
  listUsers: ListUsersHandler;
  updateUser: UpdateUserHandler;
  changePassword: ChangePasswordHandler;
  disableUser: DisableUserHandler;
  enableUser: EnableUserHandler;
  deleteUser: DeleteUserHandler;
  verifyCredentials: VerifyCredentialsHandler;
  enrollTotp: EnrollTotpHandler;
  confirmTotp: ConfirmTotpHandler;
  removeTotp: RemoveTotpHandler;
  verifySecondFactor: VerifySecondFactorHandler;
  requestEmailVerification: RequestEmailVerificationHandler;
  verifyEmail: VerifyEmailHandler;
  requestPasswordReset: RequestPasswordResetHandler;
  resetPassword: ResetPasswordHandler;
  importUsers: ImportUsersHandler;
  /** The shared ListAuditEvents of @warden/bus over this service's audit trail. */
  listAuditEvents: UseCase<ListAuditEventsInput, AuditPage>;
}
