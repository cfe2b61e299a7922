import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files of one certificate: its path, its key's path and the CA that signed it. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  /** A certificate with CN=`name`, SAN 127.0.0.1 and localhost, usable as server and client. */
  issue(name: string): TestCertificate;
  /** Removes every file. */
  remove(): void;
}

/**
 * A throwaway CA made by the openssl CLI at test time (EC P-256, valid one day): nothing secret is
 * checked in, and each run has its own trust root.
 */
export function createTestPki(caName = 'warden-test-ca'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pki-'));
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-days',
    '1',
    '-subj',
    `/CN=${caName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  return {
    dir,
    caFile,
    issue(name) {
      const base = join(dir, `${name}-${serial}`);
      const extensions = `${base}.ext`;
      writeFileSync(
        extensions,
        [
          'basicConstraints=CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth,clientAuth',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
        ].join('\n'),
      );
      openssl(dir, [
        'req',
        '-new',
        ...ec,
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
        '-subj',
        `/CN=${name}`,
      ]);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${base}.csr`,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        String(serial++),
        '-days',
        '1',
        '-out',
        `${base}.crt`,
        '-extfile',
        extensions,
      ]);
      return { certFile: `${base}.crt`, keyFile: `${base}.key`, caFile };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}
