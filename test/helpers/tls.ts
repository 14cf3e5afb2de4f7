import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1/localhost made by the real openssl. */
export async function selfSignedCert(days = 1): Promise<{ dir: string; certFile: string; keyFile: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-tls-'));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', String(days), '-subj', '/CN=syncgate-test',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { dir, certFile, keyFile };
}

export interface IssuedCert {
  cert: string;
  key: string;
}

/**
 * A certificate authority made by the real openssl, for tests that need a chain: it issues
 * server certificates (for 127.0.0.1 and localhost unless told) and client certificates with a
 * given CN.
 */
export async function testCertificateAuthority(
  name = 'syncgate-test-ca',
): Promise<{ cert: string; issue(cn: string, use: 'server' | 'client', subjectAltName?: string): Promise<IssuedCert> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-ca-'));
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', caKey, '-out', caCert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  let serial = 0;
  return {
    cert: await readFile(caCert, 'utf8'),
    async issue(cn, use, subjectAltName = 'IP:127.0.0.1,DNS:localhost') {
      const base = path.join(dir, `${++serial}`);
      const ext = `${base}.ext`;
      await writeFile(ext, use === 'server' ? `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth\n` : 'extendedKeyUsage=clientAuth\n');
      await run('openssl', ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
      await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', caCert, '-CAkey', caKey, '-set_serial', String(serial + 1), '-days', '1', '-extfile', ext, '-out', `${base}.crt`]);
      return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
    },
  };
}
