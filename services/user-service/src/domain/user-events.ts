/**
 * What happened to a user; the outbox adapter turns each into a `warden.user.v1.<type>` message.
 * Ids and field names only: the stream keeps events after DeleteUser erased the person.
 */
export type UserEvent =
  | { type: 'registered'; userId: string; occurTime: Date; imported?: true }
  | { type: 'email_verified'; userId: string; occurTime: Date }
  | { type: 'updated'; userId: string; updateMask: string[]; occurTime: Date }
  | {
      type: 'password_changed';
      userId: string;
      exceptSessionId: string;
      /** CHANGE: ChangePassword; RESET: ResetPassword with a one-time code (every session ends). */
      reason: PasswordChangeReason;
      occurTime: Date;
    }
  | { type: 'disabled'; userId: string; reason: string; occurTime: Date }
  | { type: 'enabled'; userId: string; reason: string; occurTime: Date }
  | { type: 'deleted'; userId: string; occurTime: Date }
  /**
   * ConfirmTotp turned a second factor on (session-service ends the user's AAL1 sessions but
   * `exceptSessionId`, the confirming session; '' for none); RemoveTotp turned it off. Never the
   * secret.
   */
  | { type: 'mfa_enabled'; userId: string; exceptSessionId: string; occurTime: Date }
  | { type: 'mfa_disabled'; userId: string; occurTime: Date };

export type UserEventType = UserEvent['type'];

export type PasswordChangeReason = 'CHANGE' | 'RESET';
