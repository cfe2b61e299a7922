// A gateway as its own process, for tests that kill it: @warden/gateway behind a tiny HTTP server.
// GET /auth answers the principal of the request's Authorization header (200) or the refusal's
// status and code. The checkpoint file (GATEWAY_CHECKPOINT) also keeps a journal of every item it
// made durable, with the pid that applied it, written in the same atomic save: a kill can land
// between any two steps, and the journal still says exactly what the saved cursor covers.
import { createServer } from 'node:http';
import {
  createGateway,
  FileCheckpointStore,
  GatewayError,
  grpcSessionApi,
  type Checkpoint,
  type CheckpointStore,
  type RevocationItem,
} from '../../libs/gateway/src/index.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

type JournalEntry = RevocationItem & { pid: number };

class JournalingCheckpointStore implements CheckpointStore {
  private readonly file: FileCheckpointStore;
  private journal: JournalEntry[] = [];

  constructor(path: string) {
    this.file = new FileCheckpointStore(path);
  }

  async load(): Promise<Checkpoint | undefined> {
    const saved = (await this.file.load()) as
      (Checkpoint & { journal?: JournalEntry[] }) | undefined;
    this.journal = saved?.journal ?? [];
    return saved;
  }

  async save(checkpoint: Checkpoint, items: readonly RevocationItem[]): Promise<void> {
    const journal = [...this.journal, ...items.map((i) => ({ pid: process.pid, ...i }))];
    await this.file.save({ ...checkpoint, journal } as Checkpoint);
    this.journal = journal;
  }
}

const gateway = createGateway({
  session: grpcSessionApi({
    address: env('GATEWAY_SESSION_ADDRESS'),
    serviceKey: env('GATEWAY_KEY'),
  }),
  issuer: env('GATEWAY_ISSUER'),
  checkpoints: new JournalingCheckpointStore(env('GATEWAY_CHECKPOINT')),
  onError: (error, context) => process.stderr.write(`${context}: ${String(error)}\n`),
});
await gateway.ready();

const server = createServer((request, response) => {
  if (request.url === '/status') {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(gateway.status()));
    return;
  }
  gateway.authenticate(request.headers).then(
    (principal) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(principal)),
    (error: unknown) => {
      const status = error instanceof GatewayError ? error.status : 500;
      const code = error instanceof GatewayError ? error.code : 'INTERNAL';
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code }));
    },
  );
});
server.listen(Number(env('GATEWAY_PORT')), '127.0.0.1', () =>
  process.stdout.write('gateway listening\n'),
);
process.once('SIGTERM', () => {
  server.close();
  void gateway.close().then(() => process.exit(0));
});
