-- ConfirmTotp (user-service's mfa_enabled event) ends the user's AAL1 sessions with this reason.

-- AlterEnum
ALTER TYPE "SessionEndReason" ADD VALUE 'MFA_ENABLED';
