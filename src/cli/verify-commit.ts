import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { TrustConfig } from '../config/trust.js';
import { InputError } from '../errors.js';
import { computeObjectId, formatForHexLength } from '../git/object-id.js';
import { GitRepository } from '../git/repository.js';
import { loadTrustMaterial } from '../gate/trust-material.js';
import type { SignatureVerifier, VerificationResult } from '../signatures/verify.js';
import { EXIT_FAIL, EXIT_OK } from './exit-codes.js';
import { ProgressBar } from './progress.js';

interface Options {
  repo: string;
  object?: string;
  revision?: string;
  type: string;
  range?: string;
  keyring?: string[];
  config?: string;
  repository?: string;
  output: string;
  trustedRoot?: string;
  identity?: string[];
  rekorUrl?: string;
  allowedSigners?: string[];
  sshRevokedKeys?: string[];
}

/** The JSON shape of one result (issue contract: verified, revision, method, signer, reason). */
export interface VerifyCommitOutput {
  verified: boolean;
  revision: string;
  type: 'commit' | 'tag';
  method: string | null;
  signer: { fingerprint: string; primaryFingerprint?: string; keyId?: string; userIds?: string[]; signedAt?: string } | GitsignSignerOutput | SshSignerOutput | null;
  reason: { code: string; message: string } | null;
}

/** The signer of a verified gitsign signature. */
export interface GitsignSignerOutput {
  issuer: string;
  subject: string;
  rekorLogIndex: string;
  integratedTime: string;
  certificateFingerprint: string;
}

/** The signer of a verified SSH signature (fingerprint "SHA256:...", as ssh-keygen prints it). */
export interface SshSignerOutput {
  fingerprint: string;
  keyType: string;
  principal: string;
  /** FIDO keys: authenticator flags and counter. */
  flags?: number;
  counter?: number;
  /** OpenSSH certificates: key id, serial and the CA fingerprint. */
  certificate?: { keyId: string; serial: string; caFingerprint: string };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The rule bare --allowed-signers gets: any listed signer, bound to the committer's e-mail. */
const SSH_ANY_ALLOWED_SIGNER = { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' as const };

/** --allowed-signers / --ssh-revoked-keys on top of the trust material (they replace the configured files). */
function withSsh(trust: TrustConfig, opts: Options): TrustConfig {
  const out: TrustConfig = { ...trust };
  if (opts.allowedSigners) out.allowedSigners = opts.allowedSigners.map((p) => path.resolve(p));
  if (opts.sshRevokedKeys) out.sshRevokedKeys = opts.sshRevokedKeys.map((p) => path.resolve(p));
  return out;
}

/** `--identity ISSUER=SUBJECT_REGEX`, split at the first "=" (issuer URLs have none; the regex may). */
function parseIdentity(value: string): { issuer: string; subjectRegex: string } {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InputError('USAGE', `--identity must be ISSUER=SUBJECT_REGEX, not ${JSON.stringify(value)}`);
  const subjectRegex = value.slice(at + 1);
  try {
    new RegExp(subjectRegex, 'u');
  } catch {
    throw new InputError('USAGE', `--identity: ${JSON.stringify(subjectRegex)} is not a valid regular expression`);
  }
  return { issuer: value.slice(0, at), subjectRegex };
}

/** --trusted-root / --rekor-url / --identity on top of the trust material. */
function withGitsign(trust: TrustConfig, opts: Options): TrustConfig {
  const out: TrustConfig = { ...trust };
  if (opts.trustedRoot !== undefined) out.trustedRoot = path.resolve(opts.trustedRoot);
  if (opts.rekorUrl !== undefined) {
    if (!/^https?:\/\//.test(opts.rekorUrl) || !URL.canParse(opts.rekorUrl)) throw new InputError('USAGE', '--rekor-url must be an http(s) URL');
    out.rekorUrl = opts.rekorUrl;
  }
  return out;
}

async function trustFrom(opts: Options): Promise<TrustConfig> {
  if (opts.config !== undefined) {
    if (opts.identity) throw new InputError('USAGE', '--identity cannot be combined with --config: put gitsign identities in the trust rules');
    const { config } = await loadConfig(opts.config, opts.keyring ? { keyrings: opts.keyring } : {});
    return withSsh(withGitsign(config.trust, opts), opts);
  }
  if (opts.sshRevokedKeys && !opts.allowedSigners) throw new InputError('USAGE', '--ssh-revoked-keys needs --allowed-signers FILE');
  const ssh = opts.allowedSigners ? { ssh: SSH_ANY_ALLOWED_SIGNER } : {};
  if (opts.trustedRoot !== undefined) {
    const identities = (opts.identity ?? []).map(parseIdentity);
    if (identities.length === 0) throw new InputError('USAGE', '--trusted-root needs at least one --identity ISSUER=SUBJECT_REGEX');
    const keyrings = opts.keyring ?? [];
    const rule = { repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: keyrings.length > 0, allowSha1: [], allowDsa: [] }, gitsign: { identities, requireCommitterMatch: false }, ...ssh };
    return withSsh(withGitsign({ keyrings, rules: [rule] }, opts), opts);
  }
  if (opts.identity || opts.rekorUrl !== undefined) throw new InputError('USAGE', '--identity and --rekor-url need --trusted-root FILE');
  if ((!opts.keyring || opts.keyring.length === 0) && !opts.allowedSigners) {
    throw new InputError('NO_TRUST_MATERIAL', 'no trust material: give --keyring FILE (repeatable), --allowed-signers FILE, --trusted-root FILE or --config FILE');
  }
  // With bare keyrings, every key in them may sign (like gpg with imported keys, but strict);
  // with bare allowed signers, every listed signer may sign, for its own e-mail only.
  const keyrings = opts.keyring ?? [];
  return withSsh(
    {
      keyrings,
      rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: keyrings.length > 0, allowSha1: [], allowDsa: [] }, ...ssh }],
    },
    opts,
  );
}

function toOutput(result: VerificationResult, type: 'commit' | 'tag', revision?: string): VerifyCommitOutput {
  const s = result.signer;
  return {
    verified: result.verified,
    revision: revision ?? result.oid,
    type,
    method: result.method,
    signer:
      result.verified && s?.gitsign
        ? {
            issuer: s.gitsign.issuer,
            subject: s.gitsign.subject,
            rekorLogIndex: s.gitsign.rekorLogIndex,
            integratedTime: s.gitsign.integratedTime,
            certificateFingerprint: s.gitsign.certificateFingerprint,
          }
        : result.verified && s?.ssh
        ? {
            fingerprint: s.fingerprint,
            keyType: s.ssh.keyType,
            principal: s.ssh.principal ?? '',
            ...(s.ssh.flags !== undefined ? { flags: s.ssh.flags, counter: s.ssh.counter as number } : {}),
            ...(s.ssh.certificate ? { certificate: { keyId: s.ssh.certificate.keyId, serial: s.ssh.certificate.serial, caFingerprint: s.ssh.certificate.caFingerprint } } : {}),
          }
        : result.verified && s
        ? {
            fingerprint: s.fingerprint,
            ...(s.primaryFingerprint ? { primaryFingerprint: s.primaryFingerprint } : {}),
            ...(s.keyId ? { keyId: s.keyId } : {}),
            ...(s.userIds ? { userIds: s.userIds } : {}),
            ...(s.signedAt ? { signedAt: s.signedAt } : {}),
          }
        : null,
    reason: result.verified ? null : (result.reason ?? { code: 'BAD_SIGNATURE', message: 'not verified' }),
  };
}

function textLine(o: VerifyCommitOutput): string {
  if (o.verified && o.signer && 'subject' in o.signer) {
    return `verified ${o.type} ${o.revision} (${o.method}) signed by ${o.signer.subject} (issuer ${o.signer.issuer}), Rekor entry ${o.signer.rekorLogIndex} at ${o.signer.integratedTime}`;
  }
  if (o.verified && o.signer && 'keyType' in o.signer) {
    return `verified ${o.type} ${o.revision} (${o.method}) signed by ${o.signer.keyType} key ${o.signer.fingerprint} for ${o.signer.principal}`;
  }
  if (o.verified && o.signer && 'fingerprint' in o.signer && !('keyType' in o.signer)) {
    const who = o.signer.userIds?.[0] ? ` "${o.signer.userIds[0]}"` : '';
    return `verified ${o.type} ${o.revision} (${o.method}) signed by ${o.signer.fingerprint}${who}${o.signer.signedAt ? ` at ${o.signer.signedAt}` : ''}`;
  }
  return `NOT verified ${o.type} ${o.revision}: ${o.reason?.code}: ${o.reason?.message}`;
}

async function verifyFile(verifier: SignatureVerifier, opts: Options): Promise<VerifyCommitOutput> {
  if (opts.type !== 'commit' && opts.type !== 'tag') throw new InputError('USAGE', `--type must be commit or tag, not ${opts.type}`);
  const type = opts.type;
  let raw: Buffer;
  try {
    raw = await readFile(opts.object!);
  } catch (err) {
    throw new InputError('OBJECT_UNREADABLE', `${opts.object}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file: opts.object! });
  }
  const result = await verifier.verifyObject({ raw, kind: type, ...(opts.repository ? { repository: opts.repository } : {}) });
  if (opts.revision !== undefined) {
    const revision = opts.revision.toLowerCase();
    const format = formatForHexLength(revision.length);
    if (!format || !/^[0-9a-f]+$/.test(revision)) throw new InputError('USAGE', '--revision must be a full object id (40 or 64 hex digits)');
    const actual = computeObjectId(type, raw, format);
    if (actual !== revision) {
      return { ...toOutput(result, type, revision), verified: false, signer: null, reason: { code: 'REVISION_MISMATCH', message: `the object hashes to ${actual}, not to ${revision}` } };
    }
  }
  return toOutput(result, type);
}

async function verifyInRepo(verifier: SignatureVerifier, opts: Options, rev: string): Promise<VerifyCommitOutput[]> {
  const repo = await GitRepository.open(opts.repo);
  try {
    const revs = opts.range !== undefined ? await repo.listCommits(opts.range) : [rev];
    const bar = new ProgressBar(revs.length, 'verifying');
    const outputs: VerifyCommitOutput[] = [];
    for (const r of revs) {
      const object = await repo.readObject(r);
      if (object.kind !== 'commit' && object.kind !== 'tag') throw new InputError('USAGE', `${r} is a ${object.kind}, not a commit or tag`);
      const result = await verifier.verifyObject({ raw: object.raw, kind: object.kind, ...(opts.repository ? { repository: opts.repository } : {}) });
      outputs.push(toOutput(result, object.kind, object.oid));
      bar.tick(outputs.length);
    }
    bar.done();
    return outputs;
  } finally {
    repo.close();
  }
}

export function registerVerifyCommit(program: Command): void {
  program
    .command('verify-commit')
    .description('verify the signature of a commit or annotated tag (or every commit of a range) against the trust policy')
    .argument('[rev]', 'revision to verify (commit or annotated tag)', 'HEAD')
    .option('--repo <dir>', 'repository to read from', '.')
    .option('--object <file>', 'verify a raw object file (`git cat-file commit|tag` output) instead of a repository')
    .option('--revision <sha>', 'with --object: the object id it must hash to')
    .option('--type <type>', 'with --object: commit or tag', 'commit')
    .option('--range <A..B>', 'verify every commit reachable from B and not from A (like Argo CD strict mode)')
    .option('--keyring <file>', 'OpenPGP key file to trust (repeatable)', collect)
    .option('--config <file>', 'take the trust policy from a syncgate configuration file')
    .option('--repository <url>', 'repository URL that selects the trust rule')
    .option('--trusted-root <file>', 'Sigstore trusted_root.json for gitsign signatures (pinned, offline)')
    .option('--identity <issuer=subjectRegex>', 'gitsign identity allowed to sign: OIDC issuer exactly, subject by an anchored regex (repeatable)', collect)
    .option('--rekor-url <url>', 'Rekor server to look up default-mode (online) gitsign commits')
    .option('--allowed-signers <file>', 'SSH allowed signers file, git gpg.ssh.allowedSignersFile format (repeatable)', collect)
    .option('--ssh-revoked-keys <file>', 'SSH revoked keys file, plain public keys (repeatable)', collect)
    .option('--output <format>', 'text or json', 'text')
    .action(async (rev: string, opts: Options) => {
      if (opts.output !== 'text' && opts.output !== 'json') throw new InputError('USAGE', `--output must be text or json, not ${opts.output}`);
      if (opts.object !== undefined && opts.range !== undefined) throw new InputError('USAGE', '--object and --range cannot be combined');
      const trust = await trustFrom(opts);
      const verifier = await loadTrustMaterial(trust);

      const outputs = opts.object !== undefined ? [await verifyFile(verifier, opts)] : await verifyInRepo(verifier, opts, rev);
      // An empty range has nothing unverified in it; it is reported as such.
      const allVerified = outputs.every((o) => o.verified);
      if (opts.range !== undefined) {
        const verified = outputs.filter((o) => o.verified).length;
        const summary = { total: outputs.length, verified, notVerified: outputs.length - verified };
        if (opts.output === 'json') {
          process.stdout.write(`${JSON.stringify({ verified: allVerified, range: opts.range, summary, commits: outputs }, null, 2)}\n`);
        } else {
          for (const o of outputs) process.stdout.write(`${textLine(o)}\n`);
          process.stdout.write(`${summary.verified}/${summary.total} commits verified${summary.total === 0 ? ' (the range is empty)' : ''}\n`);
        }
      } else if (opts.output === 'json') {
        process.stdout.write(`${JSON.stringify(outputs[0], null, 2)}\n`);
      } else {
        process.stdout.write(`${textLine(outputs[0]!)}\n`);
      }
      process.exitCode = allVerified ? EXIT_OK : EXIT_FAIL;
    });
}
