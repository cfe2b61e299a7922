import { GrpcServer, type ServerKitOptions } from '@warden/grpc';
import { authzv1, descriptorSetPath } from '@warden/proto';
import { SERVICE_NAME } from './config.js';
import type { AuthzApp } from './app.js';

export type AuthzServerOptions = Omit<ServerKitOptions, 'serviceName' | 'descriptorSetPath'>;

/** The server kit with AuthzService on it: checks answered from this app's policy model. */
export function createAuthzServer(app: AuthzApp, options: AuthzServerOptions): GrpcServer {
  const server = new GrpcServer({ ...options, serviceName: SERVICE_NAME, descriptorSetPath });
  server.addService(authzv1.AuthzServiceService, app.grpc);
  return server;
}
