/**
 * SSH fixtures made with the real ssh-keygen (OpenSSH): throwaway key pairs of every type it can
 * make here, user certificates (`ssh-keygen -s`), SSHSIG signatures (`ssh-keygen -Y sign`),
 * allowed_signers files, and git commits/tags signed with `gpg.format=ssh`. FIDO (sk-*) keys need
 * hardware: those are covered by the corpus' real signatures and by `skSignature` below, which
 * builds the sk signature format in process.
 */
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestRepo } from './git.js';

export interface SshHome {
  dir: string;
  cleanup(): Promise<void>;
}

export interface SshKey {
  /** Private key file (its public half is `${path}.pub`). */
  path: string;
  /** "type base64" (no comment). */
  publicKey: string;
  /** "SHA256:...", as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  type: string;
}

export type SshKeySpec = 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'ecdsa-521' | 'rsa' | 'rsa-1024';

export function run(cmd: string, args: string[], options: { input?: Buffer | string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, cwd: options.cwd, env: options.env ?? process.env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.toString('utf8')}`));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

export async function makeSshHome(): Promise<SshHome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-ssh-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

let counter = 0;

async function describeKey(file: string): Promise<{ publicKey: string; fingerprint: string; type: string }> {
  const text = (await readFile(file, 'utf8')).trim();
  const [type, b64] = text.split(/\s+/) as [string, string];
  const fp = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', file])).toString('utf8').split(' ')[1] as string;
  return { publicKey: `${type} ${b64}`, fingerprint: fp, type };
}

/** A new key pair made by ssh-keygen (no passphrase). */
export async function generateSshKey(home: SshHome, spec: SshKeySpec = 'ed25519', name = `key${++counter}`): Promise<SshKey> {
  const file = path.join(home.dir, name);
  const args: Record<SshKeySpec, string[]> = {
    ed25519: ['-t', 'ed25519'],
    'ecdsa-256': ['-t', 'ecdsa', '-b', '256'],
    'ecdsa-384': ['-t', 'ecdsa', '-b', '384'],
    'ecdsa-521': ['-t', 'ecdsa', '-b', '521'],
    rsa: ['-t', 'rsa', '-b', '3072'],
    'rsa-1024': ['-t', 'rsa', '-b', '1024'],
  };
  await run('ssh-keygen', ['-q', ...args[spec], '-N', '', '-C', name, '-f', file]);
  return { path: file, ...(await describeKey(`${file}.pub`)) };
}

export interface CertOptions {
  identity?: string;
  principals: string[];
  /** ssh-keygen -V, e.g. "-1d:+1d" or "20240101:20250101". */
  validity?: string;
  /** ssh-keygen -O options, e.g. "force-command=/bin/true", "critical:foo=bar". */
  options?: string[];
  host?: boolean;
  serial?: number;
}

/** Signs `key`'s public key with `ca` and returns the certificate (written next to the key as `-cert.pub`). */
export async function signCertificate(ca: SshKey, key: SshKey, options: CertOptions): Promise<SshKey> {
  const args = ['-q', '-s', ca.path, '-I', options.identity ?? 'test-identity', '-n', options.principals.join(','), ...(options.validity ? ['-V', options.validity] : []), ...(options.serial !== undefined ? ['-z', String(options.serial)] : [])];
  for (const o of options.options ?? []) args.push('-O', o);
  if (options.host) args.push('-h');
  await run('ssh-keygen', [...args, `${key.path}.pub`]);
  const cert = `${key.path}-cert.pub`;
  return { path: key.path, ...(await describeKey(cert)), fingerprint: key.fingerprint };
}

/** `ssh-keygen -Y sign` over `data`: the armored SSHSIG text. */
export async function sshSign(key: SshKey, data: Buffer | string, namespace = 'git', options: { hash?: 'sha256' | 'sha512'; certificate?: boolean } = {}): Promise<string> {
  const args = ['-Y', 'sign', '-n', namespace, '-f', options.certificate ? `${key.path}-cert.pub` : key.path, ...(options.hash ? ['-O', `hashalg=${options.hash}`] : [])];
  return (await run('ssh-keygen', args, { input: data })).toString('utf8');
}

/** An allowed_signers line: `principals [options] key`. */
export function allowedSignersLine(principals: string, key: Pick<SshKey, 'publicKey'>, options?: string): string {
  return `${principals}${options ? ` ${options}` : ''} ${key.publicKey}`;
}

export async function writeTextFile(home: SshHome, name: string, lines: string[]): Promise<string> {
  const file = path.join(home.dir, name);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

export interface SshCommitOptions {
  message?: string;
  /** Committer (and author) e-mail; default committer@example.invalid. */
  email?: string;
  date?: Date;
  /** Sign with the key's certificate (`-cert.pub`) instead of the plain key. */
  certificate?: boolean;
}

function sshGitArgs(key: SshKey, certificate?: boolean): string[] {
  return ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${certificate ? `${key.path}-cert.pub` : key.path}`];
}

function identityEnv(options: SshCommitOptions): NodeJS.ProcessEnv {
  const email = options.email ?? 'committer@example.invalid';
  const stamp = options.date ? `${Math.floor(options.date.getTime() / 1000)} +0000` : undefined;
  return { GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_EMAIL: email, ...(stamp ? { GIT_AUTHOR_DATE: stamp, GIT_COMMITTER_DATE: stamp } : {}) };
}

/** A commit signed by git with gpg.format=ssh (git runs ssh-keygen -Y sign -n git); returns its id. */
export async function sshCommit(repo: TestRepo, key: SshKey, options: SshCommitOptions = {}): Promise<string> {
  const n = ++counter;
  await writeFile(path.join(repo.dir, `ssh-file-${n}.txt`), `content ${n}\n`);
  await repo.git(['add', '-A', '--', `ssh-file-${n}.txt`]);
  await repo.git([...sshGitArgs(key, options.certificate), 'commit', '-q', '-S', '-m', options.message ?? `ssh commit ${n}`], { env: identityEnv(options) });
  return (await repo.git(['rev-parse', 'HEAD'])).toString('utf8').trim();
}

/** An annotated tag signed with gpg.format=ssh; returns the tag object id. */
export async function sshTag(repo: TestRepo, key: SshKey, name: string, options: SshCommitOptions = {}): Promise<string> {
  const env = { ...identityEnv(options), GIT_COMMITTER_EMAIL: options.email ?? 'committer@example.invalid' };
  await repo.git([...sshGitArgs(key, options.certificate), 'tag', '-s', '-m', options.message ?? `tag ${name}`, name, 'HEAD'], { env });
  return (await repo.git(['rev-parse', `refs/tags/${name}`])).toString('utf8').trim();
}

/** Replaces the signature of a commit (its gpgsig header) with `armored` (an SSHSIG text). */
export function withCommitSignature(raw: Buffer, armored: string): Buffer {
  const text = raw.toString('latin1');
  const m = /\ngpgsig ([\s\S]*?-----END SSH SIGNATURE-----)\n/.exec(text);
  if (!m) throw new Error('no SSH gpgsig header');
  const value = armored.trimEnd().split('\n').join('\n ');
  return Buffer.from(text.replace(m[1] as string, value), 'latin1');
}

/** The SSHSIG armor text of a commit's gpgsig header. */
export function commitSignature(raw: Buffer): string {
  const m = /\ngpgsig ([\s\S]*?-----END SSH SIGNATURE-----)\n/.exec(raw.toString('latin1'));
  if (!m) throw new Error('no SSH gpgsig header');
  return `${(m[1] as string).replace(/\n /g, '\n')}\n`;
}

/** The payload git signs for a commit: the object without its gpgsig header. */
export function commitPayload(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  return Buffer.from(text.replace(/\ngpgsig [^\n]*(\n [^\n]*)*/, ''), 'latin1');
}

/** Armor exactly as ssh-keygen writes it (70 columns). */
export function armorSshsig(blob: Buffer, width = 70): string {
  const lines = blob.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) as string[];
  return ['-----BEGIN SSH SIGNATURE-----', ...lines, '-----END SSH SIGNATURE-----', ''].join('\n');
}

export function decodeSshsig(armored: string): Buffer {
  return Buffer.from(armored.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), 'base64');
}

// ---- wire helpers for in-process FIDO fixtures ----

export function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function mpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return sshString(((v[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), v]) : v);
}

export interface SkKeyPair {
  type: 'sk-ssh-ed25519@openssh.com' | 'sk-ecdsa-sha2-nistp256@openssh.com';
  blob: Buffer;
  publicKey: string;
  /** Signs `data` as a FIDO authenticator would, with the given flags and counter: the SSH signature blob. */
  sign(data: Buffer, flags: number, counter: number): Buffer;
}

/**
 * An sk-* key pair emulated in process (a software "authenticator"): the public key and signature
 * formats of OpenSSH PROTOCOL.u2f, made with node:crypto. For tests of flags handling only.
 */
export function softwareSkKey(kind: 'ed25519' | 'ecdsa', application = 'ssh:'): SkKeyPair {
  const h = (x: Buffer | string): Buffer => createHash('sha256').update(x).digest();
  const signed = (data: Buffer, flags: number, counter: number): Buffer => {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter, 0);
    return Buffer.concat([h(application), Buffer.from([flags]), c, h(data)]);
  };
  const trailer = (flags: number, counter: number): Buffer => {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter, 0);
    return Buffer.concat([Buffer.from([flags]), c]);
  };
  if (kind === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
    const type = 'sk-ssh-ed25519@openssh.com' as const;
    const blob = Buffer.concat([sshString(type), sshString(raw), sshString(application)]);
    return {
      type,
      blob,
      publicKey: `${type} ${blob.toString('base64')}`,
      sign: (data, flags, counter) => Buffer.concat([sshString(type), sshString(cryptoSign(null, signed(data, flags, counter), privateKey)), trailer(flags, counter)]),
    };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
  const type = 'sk-ecdsa-sha2-nistp256@openssh.com' as const;
  const blob = Buffer.concat([sshString(type), sshString('nistp256'), sshString(point), sshString(application)]);
  return {
    type,
    blob,
    publicKey: `${type} ${blob.toString('base64')}`,
    sign: (data, flags, counter) => {
      const sig = cryptoSign('sha256', signed(data, flags, counter), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const inner = Buffer.concat([mpint(sig.subarray(0, 32)), mpint(sig.subarray(32))]);
      return Buffer.concat([sshString(type), sshString(inner), trailer(flags, counter)]);
    },
  };
}

/** An SSHSIG blob over `message` by `key` (namespace git, sha512), signed by `signRaw`. */
export function buildSshsig(keyBlob: Buffer, message: Buffer, signRaw: (signedData: Buffer) => Buffer, namespace = 'git', hash: 'sha256' | 'sha512' = 'sha512'): Buffer {
  const digest = createHash(hash).update(message).digest();
  const signedData = Buffer.concat([Buffer.from('SSHSIG'), sshString(namespace), sshString(''), sshString(hash), sshString(digest)]);
  const version = Buffer.alloc(4);
  version.writeUInt32BE(1, 0);
  return Buffer.concat([Buffer.from('SSHSIG'), version, sshString(keyBlob), sshString(namespace), sshString(''), sshString(hash), sshString(signRaw(signedData))]);
}

/** `ssh-keygen -Y verify` (the reference): resolves with its exit code and output. */
export function sshKeygenVerify(allowedSigners: string, principal: string, signatureFile: string, data: Buffer, extra: string[] = []): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('ssh-keygen', ['-Y', 'verify', '-n', 'git', '-f', allowedSigners, '-I', principal, '-s', signatureFile, ...extra], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(data);
  });
}
