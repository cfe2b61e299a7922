import type { Bus } from '@warden/bus';
import type { UnaryHandler } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import type { UseCases } from '../../application/use-cases.js';
import { notImplemented } from '../../errors.js';
import { fromProtoStatusFilter, toProtoStatus, toProtoUser } from '../../mapping.js';

type Service = typeof userv1.UserServiceService;
type RequestOf<K extends keyof Service> = Parameters<Service[K]['requestSerialize']>[0];
type ResponseOf<K extends keyof Service> = ReturnType<Service[K]['responseDeserialize']>;
export type UserServiceHandlers = {
  [K in keyof Service]: UnaryHandler<RequestOf<K>, ResponseOf<K>>;
};

/** The inbound adapter: proto in, use case through the bus, proto out. No rules here. */
export function userServiceHandlers(bus: Bus, useCases: UseCases): UserServiceHandlers {
  return {
    registerUser: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(
          useCases.registerUser,
          {
            email: req.email,
            password: req.password,
            displayName: req.displayName,
            requestId: req.requestId,
          },
          ctx,
        ),
      ),
    }),
    getUser: async (req, { ctx }) => ({
      user: toProtoUser(await bus.run(useCases.getUser, { userId: req.userId }, ctx)),
    }),
    listUsers: async (req, { ctx }) => {
      const status = fromProtoStatusFilter(req.status);
      const page = await bus.run(
        useCases.listUsers,
        {
          pageSize: req.pageSize,
          pageToken: req.pageToken,
          emailPrefix: req.emailPrefix,
          ...(status ? { status } : {}),
        },
        ctx,
      );
      return { users: page.users.map(toProtoUser), nextPageToken: page.nextPageToken };
    },
    updateUser: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(
          useCases.updateUser,
          { userId: req.userId, displayName: req.displayName, updateMask: req.updateMask ?? [] },
          ctx,
        ),
      ),
    }),
    changePassword: async (req, { ctx }) => {
      await bus.run(
        useCases.changePassword,
        { userId: req.userId, currentPassword: req.currentPassword, newPassword: req.newPassword },
        ctx,
      );
      return {};
    },
    disableUser: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(useCases.disableUser, { userId: req.userId, reason: req.reason }, ctx),
      ),
    }),
    enableUser: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(useCases.enableUser, { userId: req.userId, reason: req.reason }, ctx),
      ),
    }),
    deleteUser: async (req, { ctx }) => {
      await bus.run(useCases.deleteUser, { userId: req.userId }, ctx);
      return {};
    },
    verifyCredentials: async (req, { ctx }) => {
      const verified = await bus.run(
        useCases.verifyCredentials,
        { email: req.email, password: req.password },
        ctx,
      );
      return { userId: verified.userId, status: toProtoStatus(verified.status) };
    },
    // Issue 13 placeholders, replaced by their use cases as they land.
    requestEmailVerification: () => Promise.reject(notImplemented('RequestEmailVerification')),
    verifyEmail: () => Promise.reject(notImplemented('VerifyEmail')),
    requestPasswordReset: () => Promise.reject(notImplemented('RequestPasswordReset')),
    resetPassword: () => Promise.reject(notImplemented('ResetPassword')),
    enrollTotp: () => Promise.reject(notImplemented('EnrollTotp')),
    confirmTotp: () => Promise.reject(notImplemented('ConfirmTotp')),
    removeTotp: () => Promise.reject(notImplemented('RemoveTotp')),
    verifySecondFactor: () => Promise.reject(notImplemented('VerifySecondFactor')),
    importUsers: () => Promise.reject(notImplemented('ImportUsers')),
  };
}
