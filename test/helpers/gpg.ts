/**
 * Test fixtures made with the real gpg: throwaway homes, keys (optionally dated in the past with
 * --faked-system-time), expiry changes, revocations and detached signatures.
 * Everything runs non-interactively: --batch --pinentry-mode loopback --passphrase ''.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as openpgp from 'openpgp';

export interface GpgHome {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Runs gpg in this home; rejects with stderr on a non-zero exit. */
  run(args: string[], options?: { input?: Buffer | string; fakedTime?: Date }): Promise<Buffer>;
  cleanup(): Promise<void>;
}

export interface GeneratedKey {
  name: string;
  email: string;
  /** Primary key fingerprint (upper-case hex). */
  fingerprint: string;
  keyId: string;
  /** Fingerprint of the signing subkey, when one was requested. */
  subkeyFingerprint?: string;
  /** Armored public key (as exported when generated; call exportPublicKey after changes). */
  publicKey: string;
}

export interface GenerateKeyOptions {
  name: string;
  email: string;
  /** gpg algorithm name: ed25519 (default, fastest), rsa2048, rsa3072, dsa2048 ... */
  algo?: string;
  /** gpg expiry: "never" (default), "1y", or an ISO date "2024-01-01". */
  expire?: string;
  /** Add a signing subkey (same algo) and sign with it by default. */
  subkey?: boolean;
  /** Pretend the key was made at this time. */
  createdAt?: Date;
}

const BASE = ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--no-tty', '--quiet'];

/** gpg's --faked-system-time value for a date, frozen ("!"). */
export function fakedTime(date: Date): string {
  return `${Math.floor(date.getTime() / 1000)}!`;
}

export async function makeGpgHome(): Promise<GpgHome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-gpg-'));
  const env = { ...process.env, GNUPGHOME: dir };
  const run = (args: string[], options: { input?: Buffer | string; fakedTime?: Date } = {}): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const full = [...BASE, ...(options.fakedTime ? ['--faked-system-time', fakedTime(options.fakedTime)] : []), ...args];
      const child = execFile('gpg', full, { env, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`gpg ${args.join(' ')} failed: ${stderr.toString('utf8')}`));
        else resolve(stdout);
      });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input ?? '');
    });
  const cleanup = async (): Promise<void> => {
    await new Promise<void>((resolve) => execFile('gpgconf', ['--kill', 'gpg-agent'], { env }, () => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, env, run, cleanup };
}

async function fingerprints(home: GpgHome, email: string): Promise<{ primary: string; subkeys: string[] }> {
  const out = (await home.run(['--with-colons', '--with-subkey-fingerprints', '--list-keys', `<${email}>`])).toString('utf8');
  let primary = '';
  const subkeys: string[] = [];
  let current: 'pub' | 'sub' | undefined;
  for (const line of out.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'pub' || f[0] === 'sub') current = f[0];
    if (f[0] === 'fpr') {
      if (current === 'pub' && !primary) primary = f[9] as string;
      else if (current === 'sub') subkeys.push(f[9] as string);
      current = undefined;
    }
  }
  if (!primary) throw new Error(`no key for ${email}`);
  return { primary, subkeys };
}

export async function exportPublicKey(home: GpgHome, fingerprint: string): Promise<string> {
  return (await home.run(['--armor', '--export', fingerprint])).toString('utf8');
}

export async function exportSecretKey(home: GpgHome, fingerprint: string): Promise<string> {
  return (await home.run(['--armor', '--export-secret-keys', fingerprint])).toString('utf8');
}

export async function generateKey(home: GpgHome, options: GenerateKeyOptions): Promise<GeneratedKey> {
  const algo = options.algo ?? 'ed25519';
  const expire = options.expire ?? 'never';
  const when = options.createdAt ? { fakedTime: options.createdAt } : {};
  const uid = `${options.name} <${options.email}>`;
  // With a subkey, the primary only certifies so that gpg signs with the subkey.
  await home.run(['--quick-gen-key', uid, algo, options.subkey ? 'cert' : 'sign', expire], when);
  const { primary } = await fingerprints(home, options.email);
  if (options.subkey) await home.run(['--quick-add-key', primary, algo, 'sign', expire], when);
  const { subkeys } = await fingerprints(home, options.email);
  return {
    name: options.name,
    email: options.email,
    fingerprint: primary,
    keyId: primary.slice(-16),
    ...(options.subkey ? { subkeyFingerprint: subkeys[0] as string } : {}),
    publicKey: await exportPublicKey(home, primary),
  };
}

/** Sets the primary key's expiry (a new self-signature dated `at`). */
export async function setExpire(home: GpgHome, fingerprint: string, expire: string, at?: Date): Promise<void> {
  await home.run(['--quick-set-expire', fingerprint, expire], at ? { fakedTime: at } : {});
}

/**
 * Revokes a key and returns the revoked public key. `hard` imports gpg's own revocation
 * certificate (reason "no reason specified", which counts as hard); soft reasons are made with
 * openpgp.js because gpg --gen-revoke cannot pick a reason in batch mode.
 */
export async function revokeKey(home: GpgHome, fingerprint: string, options: { reason: 'hard' | 'compromised' | 'superseded' | 'retired'; at: Date }): Promise<string> {
  if (options.reason === 'hard') {
    const cert = (await readFile(path.join(home.dir, 'openpgp-revocs.d', `${fingerprint}.rev`), 'utf8')).replace(/^:-----BEGIN/m, '-----BEGIN');
    await home.run(['--import'], { input: cert, fakedTime: options.at });
    return exportPublicKey(home, fingerprint);
  }
  const flags = { compromised: openpgp.enums.reasonForRevocation.keyCompromised, superseded: openpgp.enums.reasonForRevocation.keySuperseded, retired: openpgp.enums.reasonForRevocation.keyRetired };
  const key = await openpgp.readPrivateKey({ armoredKey: await exportSecretKey(home, fingerprint) });
  const { publicKey } = await openpgp.revokeKey({ key, reasonForRevocation: { flag: flags[options.reason] }, date: options.at, format: 'armored' });
  await home.run(['--import'], { input: publicKey });
  return publicKey;
}

/** A detached armored signature over `data` (binary mode, as git makes them). */
export async function signDetached(home: GpgHome, signer: string, data: Buffer | string, options: { digestAlgo?: string; at?: Date } = {}): Promise<string> {
  const args = ['--armor', '--detach-sign', '--local-user', `${signer}!`, ...(options.digestAlgo ? ['--digest-algo', options.digestAlgo] : [])];
  return (await home.run(args, { input: data, ...(options.at ? { fakedTime: options.at } : {}) })).toString('utf8');
}
