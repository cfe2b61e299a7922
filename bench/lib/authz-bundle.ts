// What the benches that run authz-service's production bundle share (bench/scale-authz.ts,
// bench/lookup.ts): the package tree, the gateway's dev key, the ids the seeds write, one check.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authzv1 } from '../../libs/proto/src/index.js';

/** config.yaml's dev key of the gateway: what the bundle accepts without other configuration. */
export const GATEWAY_KEY = 'dev-key-gateway-000000000';

/**
 * The tree of production bundles the service processes start from (WARDEN_STACK_PACKAGES): the
 * given directory, else authz-service packaged into a temporary one first (about 40 s), which
 * `cleanup` removes.
 */
export function authzPackages(given: string | undefined): { packages: string; cleanup(): void } {
  const made = given ? undefined : mkdtempSync(join(tmpdir(), 'warden-packages-'));
  if (made)
    execFileSync(
      'bash',
      [
        join(import.meta.dirname, '..', '..', 'scripts', 'package.sh'),
        'authz-service',
        join(made, 'authz-service'),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  const packages = given ?? made!;
  process.env.WARDEN_STACK_PACKAGES = packages;
  return {
    packages,
    cleanup: () => {
      if (made) rmSync(made, { recursive: true, force: true });
    },
  };
}

/** Subject i's id, as the benches' seeds write it: md5('s' || i) read as a UUID (lower-case hex). */
export const seededSubject = (i: number): string => {
  const hex = createHash('md5').update(`s${i}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** One CheckPermission. */
export function check(client: authzv1.AuthzServiceClient, request: authzv1.CheckPermissionRequest) {
  return new Promise<authzv1.CheckPermissionResponse>((resolve, reject) =>
    client.checkPermission(request, (error, response) =>
      error ? reject(error) : resolve(response),
    ),
  );
}
