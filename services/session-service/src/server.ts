import { GrpcServer, type ServerKitOptions } from '@warden/grpc';
import { descriptorSetPath, sessionv1 } from '@warden/proto';
import { SERVICE_NAME } from './config.js';
import type { SessionApp } from './app.js';
import { sessionServiceHandlers } from './adapters/grpc/session-service-handlers.js';

export type SessionServerOptions = Omit<
  ServerKitOptions,
  'serviceName' | 'resolveUser' | 'descriptorSetPath'
>;

/** The gRPC server kit with SessionService on it; bearer tokens resolve through this app. */
export function createSessionServer(app: SessionApp, options: SessionServerOptions): GrpcServer {
  const server = new GrpcServer({
    ...options,
    serviceName: SERVICE_NAME,
    descriptorSetPath,
    resolveUser: app.resolveUser,
  });
  server.addService(sessionv1.SessionServiceService, sessionServiceHandlers(app.bus, app.useCases));
  return server;
}
