import type { CallContext, UserPrincipal } from '@warden/bus';
import { GrpcServer, type ServerKitOptions } from '@warden/grpc';
import type { Logger } from '@warden/logger';
import { descriptorSetPath, userv1 } from '@warden/proto';
import type { UserApp } from './app.js';

export const SERVICE_NAME = 'user-service';

export interface UserServerOptions extends Pick<
  ServerKitOptions,
  'serviceKeys' | 'tls' | 'allowedServices' | 'healthPort'
> {
  app: UserApp;
  logger: Logger;
  host: string;
  port: number;
  maxMessageBytes: number;
  resolveUser?: (token: string, ctx: CallContext) => Promise<UserPrincipal>;
  rpcDuration?: ServerKitOptions['rpcDuration'];
}

/** The server kit with UserService on it: health, reflection, identity, error mapping included. */
export function createUserServer(options: UserServerOptions): GrpcServer {
  const { app, ...kit } = options;
  const server = new GrpcServer({ serviceName: SERVICE_NAME, descriptorSetPath, ...kit });
  server.addService(userv1.UserServiceService, app.handlers);
  return server;
}
