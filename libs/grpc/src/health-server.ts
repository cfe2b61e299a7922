import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/**
 * The grpc.health.v1 name a liveness probe asks for: SERVING from the moment health is served
 * until the process stops, whatever its dependencies (readiness asks for "" or a service name).
 */
export const LIVENESS_SERVICE = 'liveness';

/** A plaintext server of grpc.health.v1 only: a worker's probes. */
export interface HealthServer {
  readonly port: number;
  /** Readiness: "" and each name given at start. */
  setServing(serving: boolean): void;
  close(): void;
}

/** Serves grpc.health.v1 on host:port (0 picks one); "" and `names` start SERVING, and liveness. */
export async function serveHealth(
  host: string,
  port: number,
  names: readonly string[] = [],
): Promise<HealthServer> {
  const health = new HealthImplementation({ '': 'SERVING', [LIVENESS_SERVICE]: 'SERVING' });
  const setServing = (serving: boolean) => {
    for (const name of ['', ...names]) health.setStatus(name, serving ? 'SERVING' : 'NOT_SERVING');
  };
  setServing(true);
  const server = new Server({ 'grpc.max_receive_message_length': 1024 });
  health.addToServer(server);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return {
    port: bound,
    setServing,
    close() {
      setServing(false);
      health.setStatus(LIVENESS_SERVICE, 'NOT_SERVING');
      server.forceShutdown();
    },
  };
}
