import { GrpcServer, type ServerKitOptions } from '@warden/grpc';
import { descriptorSetPath, userv1 } from '@warden/proto';
import { SERVICE_NAME } from './config.js';
import type { UserApp } from './app.js';

export type UserServerOptions = Omit<ServerKitOptions, 'serviceName' | 'descriptorSetPath'>;

/** The server kit with UserService on it: health, reflection, identity, error mapping included. */
export function createUserServer(app: UserApp, options: UserServerOptions): GrpcServer {
  const server = new GrpcServer({ ...options, serviceName: SERVICE_NAME, descriptorSetPath });
  server.addService(userv1.UserServiceService, app.handlers);
  return server;
}
