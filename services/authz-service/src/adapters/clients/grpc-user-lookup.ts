import { isAppError } from '@warden/errors';
import { callUnary, createClient, type ClientKitOptions } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import type { UserByEmail, UserLookup } from '../../application/bootstrap-admins.js';

/** UserLookup over user-service's ListUsers (email_prefix, then an exact match) and GetUser. */
export class GrpcUserLookup implements UserLookup {
  private readonly client: userv1.UserServiceClient;

  constructor(private readonly options: ClientKitOptions) {
    this.client = createClient(userv1.UserServiceClient, options);
  }

  async findUserByEmail(email: string): Promise<UserByEmail | undefined> {
    const request = userv1.ListUsersRequest.fromPartial({ emailPrefix: email, pageSize: 10 });
    const { users } = await callUnary(
      this.client.listUsers,
      this.client,
      request,
      undefined,
      this.options.deadlineMs,
    );
    const user = users.find((candidate) => candidate.email === email);
    return user && { id: user.id, emailVerified: user.emailVerified };
  }

  async emailOf(userId: string): Promise<string | undefined> {
    try {
      const { user } = await callUnary(
        this.client.getUser,
        this.client,
        userv1.GetUserRequest.fromPartial({ userId }),
        undefined,
        this.options.deadlineMs,
      );
      return user?.email;
    } catch (error) {
      // Deleted before its registration was applied: no user, so no bootstrap grant.
      if (isAppError(error) && error.kind === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  close(): void {
    this.client.close();
  }
}
