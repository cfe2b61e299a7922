import { freePort } from '@warden/testing';

/** user-service's Prometheus endpoint on a port of its own, read by the attack tests. */
export interface UserServiceMetrics {
  /** What user-service's env needs to serve them there. */
  env: { WARDEN_METRICS_PORT: string };
  /** argon2id verifications user-service has run so far, whatever their result. */
  argon2Checks(): Promise<number>;
}

export async function userServiceMetrics(): Promise<UserServiceMetrics> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/metrics`;
  return {
    env: { WARDEN_METRICS_PORT: String(port) },
    async argon2Checks() {
      const text = await (await fetch(url)).text();
      const samples = [...text.matchAll(/^warden_password_verifications_total\{[^}]*\} (\d+)$/gm)];
      return samples.reduce((sum, [, value]) => sum + Number(value), 0);
    },
  };
}
