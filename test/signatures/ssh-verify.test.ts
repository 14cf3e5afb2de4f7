/**
 * SSH commit and tag signatures end to end: keys, certificates and signatures made by the real
 * ssh-keygen, commits and tags by git with gpg.format=ssh, verified by SignatureVerifier with the
 * SSH method and allowed_signers variants.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshRuleConfig, TrustRuleConfig } from '../../src/config/trust.js';
import { Keyring } from '../../src/signatures/keyring.js';
import { SshTrustStore, SshVerifier, parseAllowedSigners, parseRevokedKeys } from '../../src/signatures/ssh/index.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';
import { catFile, makeRepo, type TestRepo } from '../helpers/git.js';
import {
  type SshHome,
  type SshKey,
  allowedSignersLine,
  armorSshsig,
  buildSshsig,
  commitPayload,
  commitSignature,
  decodeSshsig,
  generateSshKey,
  makeSshHome,
  signCertificate,
  softwareSkKey,
  sshCommit,
  sshKeygenVerify,
  sshSign,
  sshTag,
  withCommitSignature,
} from '../helpers/ssh.js';

const EMAIL = 'committer@example.invalid';

function rule(ssh: Partial<SshRuleConfig> = {}, repositories = ['**']): TrustRuleConfig {
  return {
    repositories,
    openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] },
    ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now', ...ssh },
  };
}

function verifierFor(lines: string[], options: { rules?: TrustRuleConfig[]; revoked?: string[] } = {}): SignatureVerifier {
  const signers = parseAllowedSigners(lines.join('\n'), 'allowed_signers');
  const revoked = (options.revoked ?? []).flatMap((text) => parseRevokedKeys(Buffer.from(text), 'revoked_keys'));
  return new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules: options.rules ?? [rule()] }, methods: [new SshVerifier(new SshTrustStore(signers, revoked))] });
}

describe('SSH signatures with real ssh-keygen and git', () => {
  let home: SshHome;
  let repo: TestRepo;
  const keys: Record<string, SshKey> = {};
  const raws: Record<string, Buffer> = {};

  beforeAll(async () => {
    home = await makeSshHome();
    repo = await makeRepo();
    for (const spec of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa'] as const) {
      keys[spec] = await generateSshKey(home, spec, spec);
      raws[spec] = await catFile(repo, await sshCommit(repo, keys[spec] as SshKey));
    }
    keys.stranger = await generateSshKey(home, 'ed25519', 'stranger');
    raws.stranger = await catFile(repo, await sshCommit(repo, keys.stranger));
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  it.each(['ed25519', 'ecdsa-256', 'ecdsa-384', 'ecdsa-521', 'rsa'])('verifies a git commit signed with an %s key, with the evidence ssh-keygen would print', async (spec) => {
    const key = keys[spec] as SshKey;
    const result = await verifierFor([allowedSignersLine(EMAIL, key)]).verifyObject({ raw: raws[spec] as Buffer, kind: 'commit' });
    expect(result.reason).toBeUndefined();
    expect(result).toMatchObject({ verified: true, method: 'ssh' });
    expect(result.signer?.fingerprint).toBe(key.fingerprint);
    expect(result.signer?.ssh).toMatchObject({
      keyType: key.type,
      signatureType: spec === 'rsa' ? 'rsa-sha2-512' : key.type,
      namespace: 'git',
      hashAlgorithm: 'sha512',
      principal: EMAIL,
      allowedBy: 'allowed_signers:1',
    });
  });

  it('agrees with ssh-keygen -Y verify on the same signature', async () => {
    const key = keys['ecdsa-384'] as SshKey;
    const allowed = path.join(home.dir, 'agree_signers');
    await writeFile(allowed, `${allowedSignersLine(EMAIL, key)}\n`);
    const sigFile = path.join(home.dir, 'agree.sig');
    await writeFile(sigFile, commitSignature(raws['ecdsa-384'] as Buffer));
    expect((await sshKeygenVerify(allowed, EMAIL, sigFile, commitPayload(raws['ecdsa-384'] as Buffer))).code).toBe(0);
    expect((await sshKeygenVerify(allowed, EMAIL, sigFile, Buffer.concat([commitPayload(raws['ecdsa-384'] as Buffer), Buffer.from('x')]))).code).not.toBe(0);
  });

  it('verifies a signed annotated tag against the tagger e-mail', async () => {
    const key = keys.ed25519 as SshKey;
    const raw = await catFile(repo, await sshTag(repo, key, 'v-ssh-1', { email: 'tagger@example.invalid' }), 'tag');
    const ok = await verifierFor([allowedSignersLine('tagger@example.invalid', key)]).verifyObject({ raw, kind: 'tag' });
    expect(ok).toMatchObject({ verified: true, method: 'ssh', signer: { ssh: { principal: 'tagger@example.invalid' } } });
    const other = await verifierFor([allowedSignersLine(EMAIL, key)]).verifyObject({ raw, kind: 'tag' });
    expect(other.reason?.code).toBe('PRINCIPAL_MISMATCH');
  });

  it('UNKNOWN_KEY for a key not listed, and for a plain key listed only as cert-authority', async () => {
    const v = verifierFor([allowedSignersLine(EMAIL, keys.ed25519 as SshKey), allowedSignersLine(EMAIL, keys.stranger as SshKey, 'cert-authority')]);
    const unknown = await v.verifyObject({ raw: raws['ecdsa-256'] as Buffer, kind: 'commit' });
    expect(unknown).toMatchObject({ verified: false, method: 'ssh', reason: { code: 'UNKNOWN_KEY' } });
    expect(unknown.signer).toBeUndefined();
    const caOnly = await v.verifyObject({ raw: raws.stranger as Buffer, kind: 'commit' });
    expect(caOnly.reason?.code).toBe('UNKNOWN_KEY');
    expect(caOnly.reason?.message).toContain('cert-authority');
  });

  describe('namespaces', () => {
    it('NAMESPACE_NOT_ALLOWED for a signature made in another namespace (ssh-keygen -Y sign -n file)', async () => {
      const key = keys.ed25519 as SshKey;
      const raw = raws.ed25519 as Buffer;
      const forged = withCommitSignature(raw, await sshSign(key, commitPayload(raw), 'file'));
      const result = await verifierFor([allowedSignersLine(EMAIL, key)]).verifyObject({ raw: forged, kind: 'commit' });
      expect(result.reason).toMatchObject({ code: 'NAMESPACE_NOT_ALLOWED' });
      expect(result.reason?.message).toContain('"file"');
    });

    it('honours namespaces= in allowed_signers (patterns, exclusion)', async () => {
      const key = keys.ed25519 as SshKey;
      const raw = raws.ed25519 as Buffer;
      const check = async (opts: string) => (await verifierFor([allowedSignersLine(EMAIL, key, opts)]).verifyObject({ raw, kind: 'commit' })).reason?.code ?? 'verified';
      expect(await check('namespaces="file"')).toBe('NAMESPACE_NOT_ALLOWED');
      expect(await check('namespaces="file,g?t"')).toBe('verified');
      expect(await check('namespaces="*,!git"')).toBe('NAMESPACE_NOT_ALLOWED');
    });

    it('a sha256 SSHSIG (ssh-keygen -O hashalg=sha256) verifies too', async () => {
      const key = keys.ed25519 as SshKey;
      const raw = withCommitSignature(raws.ed25519 as Buffer, await sshSign(key, commitPayload(raws.ed25519 as Buffer), 'git', { hash: 'sha256' }));
      const result = await verifierFor([allowedSignersLine(EMAIL, key)]).verifyObject({ raw, kind: 'commit' });
      expect(result).toMatchObject({ verified: true, signer: { hashAlgorithm: 'SHA256', ssh: { hashAlgorithm: 'sha256' } } });
    });
  });

  describe('principals and the trust rule', () => {
    const key = (): SshKey => keys.ed25519 as SshKey;
    const raw = (): Buffer => raws.ed25519 as Buffer;

    it('PRINCIPAL_MISMATCH when the key is listed for someone else (git would accept it)', async () => {
      const result = await verifierFor([allowedSignersLine('someone-else@example.invalid', key())]).verifyObject({ raw: raw(), kind: 'commit' });
      expect(result.reason?.code).toBe('PRINCIPAL_MISMATCH');
      expect(result.reason?.message).toContain(`<${EMAIL}>`);
      expect(result.signer?.fingerprint).toBe(key().fingerprint);
    });

    it('wildcards, negation and quoted principal lists', async () => {
      const check = async (principals: string) => (await verifierFor([allowedSignersLine(principals, key())]).verifyObject({ raw: raw(), kind: 'commit' })).reason?.code ?? 'verified';
      expect(await check('*@example.invalid')).toBe('verified');
      expect(await check('committer@example.inv?lid')).toBe('verified');
      expect(await check('other@example.invalid,committer@example.invalid')).toBe('verified');
      expect(await check('!committer@example.invalid,*@example.invalid')).toBe('PRINCIPAL_MISMATCH');
      expect(await check('"a b@example.invalid,committer@example.invalid"')).toBe('verified');
      expect(await check('*@example.com')).toBe('PRINCIPAL_MISMATCH');
    });

    it('requireCommitterMatch: false admits a key listed for another principal (git behaviour), reported as that principal', async () => {
      const result = await verifierFor([allowedSignersLine('deploy-bot', key())], { rules: [rule({ requireCommitterMatch: false })] }).verifyObject({ raw: raw(), kind: 'commit' });
      expect(result).toMatchObject({ verified: true, signer: { ssh: { principal: 'deploy-bot' } } });
    });

    it('per-repository rules: principals allowed for one repository only, KEY_NOT_ALLOWED elsewhere, no ssh section admits none', async () => {
      const rules = [
        rule({ anyAllowedSigner: false, principals: ['*@example.invalid'] }, ['github.com/acme/infra']),
        rule({ anyAllowedSigner: false, principals: ['alice@example.invalid'] }, ['github.com/acme/*']),
        { repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: true, allowSha1: [], allowDsa: [] } },
      ];
      const v = verifierFor([allowedSignersLine(EMAIL, key())], { rules });
      expect((await v.verifyObject({ raw: raw(), kind: 'commit', repository: 'https://github.com/acme/infra.git' })).verified).toBe(true);
      const other = await v.verifyObject({ raw: raw(), kind: 'commit', repository: 'git@github.com:acme/app.git' });
      expect(other.reason?.code).toBe('KEY_NOT_ALLOWED');
      expect(other.reason?.message).toContain(EMAIL);
      const elsewhere = await v.verifyObject({ raw: raw(), kind: 'commit', repository: 'github.com/other/x' });
      expect(elsewhere.reason).toMatchObject({ code: 'KEY_NOT_ALLOWED', message: expect.stringContaining('no ssh signers') });
    });
  });

  describe('validity windows', () => {
    const key = (): SshKey => keys.ed25519 as SshKey;
    it('valid-after / valid-before judged at now by default, at the committer time with windowAt "committer", at both with "both"', async () => {
      const raw = await catFile(repo, await sshCommit(repo, key(), { date: new Date('2024-07-24T20:02:07Z') }));
      const now = new Date('2026-11-21T00:00:00Z');
      const check = async (opts: string, windowAt: SshRuleConfig['windowAt'] = 'now') =>
        (await verifierFor([allowedSignersLine(EMAIL, key(), opts)], { rules: [rule({ windowAt })] }).verifyObject({ raw, kind: 'commit', now })).reason?.code ?? 'verified';
      expect(await check('valid-before="20240723200207"')).toBe('KEY_EXPIRED');
      expect(await check('valid-before="20240723200207"', 'committer')).toBe('KEY_EXPIRED');
      expect(await check('valid-after="20240725"')).toBe('verified');
      expect(await check('valid-after="20240725"', 'committer')).toBe('KEY_NOT_YET_VALID');
      expect(await check('valid-after="20240723Z",valid-before="202407252002"')).toBe('KEY_EXPIRED');
      expect(await check('valid-after="20240723Z",valid-before="202407252002"', 'committer')).toBe('verified');
      expect(await check('valid-after="20240723Z",valid-before="202407252002"', 'both')).toBe('KEY_EXPIRED');
      expect(await check('valid-after="20270101"')).toBe('KEY_NOT_YET_VALID');
      expect(await check('valid-after="20240101",valid-before="20270101"', 'both')).toBe('verified');
    });

    it('a later entry for the same key inside its window admits the signer', async () => {
      const raw = raws.ed25519 as Buffer;
      const result = await verifierFor([allowedSignersLine(EMAIL, key(), 'valid-before="20200101"'), allowedSignersLine(EMAIL, key(), 'valid-after="20200101"')]).verifyObject({ raw, kind: 'commit' });
      expect(result).toMatchObject({ verified: true, signer: { ssh: { allowedBy: 'allowed_signers:2' } } });
    });
  });

  describe('cached outcomes', () => {
    it('a cached object is judged afresh on every call (now, window boundaries, rule, committer binding), exactly as an uncached verifier judges it', async () => {
      const key = keys.ed25519 as SshKey;
      const date = new Date('2024-07-24T20:02:07Z');
      const mine = await catFile(repo, await sshCommit(repo, key, { date }));
      const someoneElse = await catFile(repo, await sshCommit(repo, key, { date, email: 'someone@example.invalid' }));
      const lines = [allowedSignersLine('deploy-bot', key, 'valid-before="20250101"'), allowedSignersLine(EMAIL, key, 'valid-after="20240801",valid-before="20260101"')];
      const rules = [
        rule({ windowAt: 'committer' }, ['github.com/acme/committer']),
        rule({ windowAt: 'both' }, ['github.com/acme/both']),
        rule({ requireCommitterMatch: false }, ['github.com/acme/loose']),
        rule({ anyAllowedSigner: false, principals: ['deploy-bot'] }, ['github.com/acme/bot']),
        rule({ requireCommitterMatch: false, anyAllowedSigner: false, principals: ['deploy-bot'] }, ['github.com/acme/loose-bot']),
        rule(),
      ];
      const times = ['2024-06-01T00:00:00Z', '2024-07-31T23:59:59Z', '2024-08-01T00:00:00Z', '2025-06-01T00:00:00Z', '2026-01-01T00:00:00.999Z', '2026-01-01T00:00:01Z', '2026-06-01T00:00:00Z'].map((t) => new Date(t));
      const repositories = [undefined, 'github.com/acme/committer', 'github.com/acme/both', 'github.com/acme/loose', 'github.com/acme/bot', 'github.com/acme/loose-bot', 'github.com/other/x', 'not a repository'];
      const cached = verifierFor(lines, { rules });
      const seen = new Set<string>();
      for (const pass of [0, 1]) {
        for (const [raw, order] of [[mine, repositories], [someoneElse, [...repositories].reverse()]] as const) {
          for (const now of pass === 0 ? times : [...times].reverse()) {
            for (const repository of order) {
              const request = { raw, kind: 'commit' as const, now, ...(repository !== undefined ? { repository } : {}) };
              const fresh = await verifierFor(lines, { rules }).verifyObject(request);
              expect(await cached.verifyObject(request), `${repository} at ${now.toISOString()}`).toEqual(fresh);
              seen.add(fresh.reason?.code ?? `verified as ${fresh.signer?.ssh?.principal}`);
            }
          }
        }
      }
      expect(cached.cachedObjects).toBe(2);
      expect([...seen].sort()).toEqual(['INVALID_REPOSITORY', 'KEY_EXPIRED', 'KEY_NOT_ALLOWED', 'KEY_NOT_YET_VALID', 'PRINCIPAL_MISMATCH', `verified as ${EMAIL}`, 'verified as deploy-bot']);
    });

    it('an entry whose window ends is denied on a later call with a later now, and admitted again for an earlier now', async () => {
      const v = verifierFor([allowedSignersLine(EMAIL, keys.ed25519 as SshKey, 'valid-before="20300101"')]);
      const at = async (t: string) => (await v.verifyObject({ raw: raws.ed25519 as Buffer, kind: 'commit', now: new Date(t) })).reason?.code ?? 'verified';
      expect(await at('2029-12-31T23:59:59Z')).toBe('verified');
      expect(await at('2030-01-01T00:00:00Z')).toBe('verified');
      expect(await at('2030-01-01T00:00:01Z')).toBe('KEY_EXPIRED');
      expect(await at('2029-06-01T00:00:00Z')).toBe('verified');
      expect(v.cachedObjects).toBe(1);
    });
  });

  it('KEY_REVOKED for a key in the revoked-keys file, whatever the allowed_signers say', async () => {
    const key = keys.ed25519 as SshKey;
    const result = await verifierFor([allowedSignersLine(EMAIL, key)], { revoked: [`# revoked\n${key.publicKey} old laptop\n`] }).verifyObject({ raw: raws.ed25519 as Buffer, kind: 'commit' });
    expect(result.reason).toMatchObject({ code: 'KEY_REVOKED', message: expect.stringContaining('revoked_keys:2') });
  });

  describe('tampering', () => {
    const key = (): SshKey => keys.ed25519 as SshKey;
    const v = (): SignatureVerifier => verifierFor([allowedSignersLine(EMAIL, key()), allowedSignersLine(EMAIL, keys.rsa as SshKey)]);

    it('BAD_SIGNATURE when the message changes or the signature is transplanted from another commit', async () => {
      const raw = raws.ed25519 as Buffer;
      const flipped = Buffer.from(raw.toString('latin1').replace('ssh commit', 'ssh c0mmit'), 'latin1');
      expect((await v().verifyObject({ raw: flipped, kind: 'commit' })).reason?.code).toBe('BAD_SIGNATURE');
      const other = await catFile(repo, await sshCommit(repo, key()));
      const transplanted = withCommitSignature(raw, commitSignature(other));
      expect((await v().verifyObject({ raw: transplanted, kind: 'commit' })).reason?.code).toBe('BAD_SIGNATURE');
    });

    it('MALFORMED_SIGNATURE for truncated, extended, re-wrapped or re-versioned SSHSIG blobs', async () => {
      const raw = raws.ed25519 as Buffer;
      const blob = decodeSshsig(commitSignature(raw));
      const code = async (armored: string) => (await v().verifyObject({ raw: withCommitSignature(raw, armored), kind: 'commit' })).reason?.code;
      expect(await code(armorSshsig(blob.subarray(0, blob.length - 1)))).toBe('MALFORMED_SIGNATURE');
      expect(await code(armorSshsig(Buffer.concat([blob, Buffer.from([0])])))).toBe('MALFORMED_SIGNATURE');
      expect(await code(armorSshsig(blob, 64))).toBe('MALFORMED_SIGNATURE');
      const v2 = Buffer.from(blob);
      v2.writeUInt32BE(2, 6);
      expect(await code(armorSshsig(v2))).toBe('MALFORMED_SIGNATURE');
      const magic = Buffer.from(blob);
      magic[0] = 0x54;
      expect(await code(armorSshsig(magic))).toBe('MALFORMED_SIGNATURE');
      // The same bytes, armored canonically again: still verifies (one signature, one text).
      expect(await code(armorSshsig(blob))).toBeUndefined();
      const lines = commitSignature(raw).split('\n');
      expect(await code([...lines.slice(0, 2), ...lines.slice(3)].join('\n'))).toBe('MALFORMED_SIGNATURE');
    });

    it('an RSA signature with a flipped byte is BAD_SIGNATURE', async () => {
      const raw = raws.rsa as Buffer;
      const blob = decodeSshsig(commitSignature(raw));
      const flipped = Buffer.from(blob);
      flipped.writeUInt8((flipped.at(-10) as number) ^ 1, flipped.length - 10);
      expect((await v().verifyObject({ raw: withCommitSignature(raw, armorSshsig(flipped)), kind: 'commit' })).reason?.code).toBe('BAD_SIGNATURE');
    });
  });

  describe('weak algorithms', () => {
    it('WEAK_ALGORITHM for an RSA key below 2048 bits', async () => {
      const small = await generateSshKey(home, 'rsa-1024', 'rsa1024');
      const raw = await catFile(repo, await sshCommit(repo, small));
      const result = await verifierFor([allowedSignersLine(EMAIL, small)]).verifyObject({ raw, kind: 'commit' });
      expect(result.reason).toMatchObject({ code: 'WEAK_ALGORITHM', message: expect.stringContaining('RSA-1024') });
    });
  });

  describe('OpenSSH certificates (cert-authority)', () => {
    let ca: SshKey;
    let otherCa: SshKey;
    beforeAll(async () => {
      ca = await generateSshKey(home, 'ed25519', 'ca');
      otherCa = await generateSshKey(home, 'ecdsa-256', 'other-ca');
    });
    const certCommit = async (name: string, spec: 'ed25519' | 'rsa' | 'ecdsa-256', options: Parameters<typeof signCertificate>[2], by: () => SshKey = () => ca): Promise<Buffer> => {
      const user = await generateSshKey(home, spec, name);
      await signCertificate(by(), user, options);
      return catFile(repo, await sshCommit(repo, user, { certificate: true }));
    };

    it('verifies a commit signed with a certificate from a listed CA, with the certificate in the evidence', async () => {
      const raw = await certCommit('cert-user', 'ecdsa-256', { identity: 'alice@corp', principals: [EMAIL, 'alice'], validity: '-1d:+1d', serial: 42 });
      const result = await verifierFor([allowedSignersLine('*@example.invalid', ca, 'cert-authority,namespaces="git"')]).verifyObject({ raw, kind: 'commit' });
      expect(result.reason).toBeUndefined();
      expect(result.signer?.ssh).toMatchObject({
        keyType: 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
        principal: EMAIL,
        certificate: { keyId: 'alice@corp', serial: '42', principals: [EMAIL, 'alice'], caFingerprint: ca.fingerprint, caKeyType: 'ssh-ed25519' },
      });
    });

    it('certificate principal, validity, type, CA and critical options are enforced', async () => {
      const v = verifierFor([allowedSignersLine('*', ca, 'cert-authority')]);
      const code = async (raw: Buffer) => (await v.verifyObject({ raw, kind: 'commit' })).reason?.code ?? 'verified';
      expect(await code(await certCommit('c-principal', 'ed25519', { principals: ['someone-else@example.invalid'] }))).toBe('PRINCIPAL_MISMATCH');
      expect(await code(await certCommit('c-expired', 'ed25519', { principals: [EMAIL], validity: '20200101:20210101' }))).toBe('KEY_EXPIRED');
      expect(await code(await certCommit('c-future', 'ed25519', { principals: [EMAIL], validity: '+30d:+60d' }))).toBe('KEY_NOT_YET_VALID');
      expect(await code(await certCommit('c-otherca', 'ed25519', { principals: [EMAIL] }, () => otherCa))).toBe('UNKNOWN_KEY');
      expect(await code(await certCommit('c-critical', 'ed25519', { principals: [EMAIL], options: ['critical:no-such-option@example.invalid=x'] }))).toBe('UNKNOWN_KEY');
      expect(await code(await certCommit('c-forcecmd', 'rsa', { principals: [EMAIL], options: ['force-command=/bin/true'] }))).toBe('verified');
    });

    it('a cached certificate signature is judged against the certificate validity on every call (valid_after inclusive, valid_before exclusive)', async () => {
      const raw = await certCommit('c-window', 'ed25519', { principals: [EMAIL], validity: '20250101:20260101' });
      const v = verifierFor([allowedSignersLine('*', ca, 'cert-authority')]);
      const first = await v.verifyObject({ raw, kind: 'commit', now: new Date('2025-06-01T00:00:00Z') });
      expect(first.reason).toBeUndefined();
      const certificate = first.signer?.ssh?.certificate as { validAfter: string; validBefore: string };
      const after = new Date(certificate.validAfter).getTime();
      const before = new Date(certificate.validBefore).getTime();
      const at = async (ms: number) => (await v.verifyObject({ raw, kind: 'commit', now: new Date(ms) })).reason?.code ?? 'verified';
      expect(await at(before)).toBe('KEY_EXPIRED');
      expect(await at(before - 1)).toBe('verified');
      expect(await at(after)).toBe('verified');
      expect(await at(after - 1)).toBe('KEY_NOT_YET_VALID');
      expect(await at(before + 86_400_000)).toBe('KEY_EXPIRED');
      expect(await at(after + 86_400_000)).toBe('verified');
      expect(v.cachedObjects).toBe(1);
    });

    it('a host certificate cannot sign; a revoked CA revokes its certificates', async () => {
      const host = await certCommit('c-host', 'ed25519', { principals: [EMAIL], host: true });
      expect((await verifierFor([allowedSignersLine('*', ca, 'cert-authority')]).verifyObject({ raw: host, kind: 'commit' })).reason?.code).toBe('UNKNOWN_KEY');
      const raw = await certCommit('c-revoked', 'ed25519', { principals: [EMAIL] });
      const result = await verifierFor([allowedSignersLine('*', ca, 'cert-authority')], { revoked: [ca.publicKey] }).verifyObject({ raw, kind: 'commit' });
      expect(result.reason).toMatchObject({ code: 'KEY_REVOKED', message: expect.stringContaining('the CA of') });
    });

    it('the plain key of a certificate user is not admitted by the cert-authority entry', async () => {
      const user = await generateSshKey(home, 'ed25519', 'c-plain');
      await signCertificate(ca, user, { principals: [EMAIL] });
      const raw = await catFile(repo, await sshCommit(repo, user));
      expect((await verifierFor([allowedSignersLine('*', ca, 'cert-authority')]).verifyObject({ raw, kind: 'commit' })).reason?.code).toBe('UNKNOWN_KEY');
    });
  });

  describe('FIDO (sk-*) signature format, emulated in process', () => {
    it.each(['ed25519', 'ecdsa'] as const)('sk %s: user presence required; flags and counter reported', async (kind) => {
      const sk = softwareSkKey(kind);
      const raw = raws.ed25519 as Buffer;
      const payload = commitPayload(raw);
      const make = (flags: number) => withCommitSignature(raw, armorSshsig(buildSshsig(sk.blob, payload, (data) => sk.sign(data, flags, 7))));
      const v = verifierFor([`${EMAIL} ${sk.publicKey}`]);
      const ok = await v.verifyObject({ raw: make(0x01), kind: 'commit' });
      expect(ok.reason).toBeUndefined();
      expect(ok.signer?.ssh).toMatchObject({ keyType: sk.type, flags: 1, counter: 7, application: 'ssh:' });
      const noPresence = await v.verifyObject({ raw: make(0x00), kind: 'commit' });
      expect(noPresence.reason).toMatchObject({ code: 'BAD_SIGNATURE', message: expect.stringContaining('without user presence') });
    });
  });
});
