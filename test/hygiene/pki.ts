import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
}

/** A CA made by the real openssl (EC P-256). */
export async function makeCa(name = 'syncgate-test-ca'): Promise<Pki> {
  const dir = await mkdtemp(path.join(tmpdir(), 'syncgate-pki-'));
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  return { dir, caCert, caKey };
}

/** A leaf certificate issued by `ca`: a server (SAN 127.0.0.1) or a client (extendedKeyUsage clientAuth). */
export async function issue(ca: Pki, cn: string, kind: 'server' | 'client', options: { days?: number } = {}): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = path.join(ca.dir, `${cn}.key`);
  const csr = path.join(ca.dir, `${cn}.csr`);
  const certFile = path.join(ca.dir, `${cn}.crt`);
  const ext = path.join(ca.dir, `${cn}.ext`);
  await writeFile(ext, kind === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${cn}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.caCert, '-CAkey', ca.caKey, '-CAcreateserial', '-out', certFile, '-days', String(options.days ?? 1), '-extfile', ext]);
  return { certFile, keyFile };
}
