import type { Bus } from '@warden/bus';
import { fromProtoListAuditEvents, toProtoAuditPage, type UnaryHandler } from '@warden/grpc';
import { userv1 } from '@warden/proto';
import type { UseCases } from '../../application/use-cases.js';
import {
  fromProtoSecondFactor,
  fromProtoStatusFilter,
  toProtoStatus,
  toProtoUser,
} from '../../mapping.js';

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
          externalId: req.externalId,
          metadata: req.metadata,
        },
        ctx,
      );
      return { users: page.users.map(toProtoUser), nextPageToken: page.nextPageToken };
    },
    updateUser: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(
          useCases.updateUser,
          {
            userId: req.userId,
            displayName: req.displayName,
            ...(req.externalId === undefined ? {} : { externalId: req.externalId }),
            metadata: req.metadata,
            updateMask: req.updateMask ?? [],
          },
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
      return {
        userId: verified.userId,
        status: toProtoStatus(verified.status),
        mfaEnabled: verified.mfaEnabled,
      };
    },
    requestEmailVerification: async (req, { ctx }) =>
      bus.run(useCases.requestEmailVerification, { userId: req.userId }, ctx),
    verifyEmail: async (req, { ctx }) => ({
      user: toProtoUser(
        await bus.run(useCases.verifyEmail, { userId: req.userId, code: req.code }, ctx),
      ),
    }),
    requestPasswordReset: async (req, { ctx }) =>
      bus.run(useCases.requestPasswordReset, { email: req.email }, ctx),
    resetPassword: async (req, { ctx }) => {
      await bus.run(
        useCases.resetPassword,
        { email: req.email, code: req.code, newPassword: req.newPassword },
        ctx,
      );
      return {};
    },
    importUsers: async (req, { ctx }) => {
      const results = await bus.run(
        useCases.importUsers,
        {
          requestId: req.requestId,
          users: req.users.map((u) => ({
            email: u.email,
            displayName: u.displayName,
            passwordHash: u.passwordHash,
            emailVerified: u.emailVerified,
            externalId: u.externalId,
            metadata: u.metadata,
          })),
        },
        ctx,
      );
      return {
        results: results.map((r) =>
          'userId' in r
            ? { index: r.index, userId: r.userId, errorReason: '', errorMessage: '' }
            : { index: r.index, userId: '', errorReason: r.reason, errorMessage: r.message },
        ),
      };
    },
    // The TOTP RPCs land with the step-up work (issue 13's second half).
    enrollTotp: async (req, { ctx }) => bus.run(useCases.enrollTotp, { userId: req.userId }, ctx),
    confirmTotp: async (req, { ctx }) => ({
      recoveryCodes: await bus.run(
        useCases.confirmTotp,
        { userId: req.userId, code: req.code },
        ctx,
      ),
    }),
    removeTotp: async (req, { ctx }) => {
      await bus.run(useCases.removeTotp, { userId: req.userId, code: req.code }, ctx);
      return {};
    },
    verifySecondFactor: async (req, { ctx }) => {
      const verified = await bus.run(
        useCases.verifySecondFactor,
        { userId: req.userId, factor: fromProtoSecondFactor(req) },
        ctx,
      );
      return { recoveryCodesLeft: verified.recoveryCodesLeft };
    },
    listAuditEvents: async (req, { ctx }) =>
      toProtoAuditPage(
        await bus.run(useCases.listAuditEvents, fromProtoListAuditEvents(req), ctx),
        'user-service',
      ),
  };
}
