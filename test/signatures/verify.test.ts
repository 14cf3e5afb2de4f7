import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustRuleConfig } from '../../src/config/trust.js';
import { type ObjectFormat, formatForHexLength } from '../../src/git/object-id.js';
import { crc24, parseArmor } from '../../src/signatures/armor.js';
import { Keyring } from '../../src/signatures/keyring.js';
import type { VerifyObjectRequest } from '../../src/signatures/verify.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';
import type { GeneratedKey, GpgHome } from '../helpers/gpg.js';
import { exportPublicKey, generateKey, makeGpgHome, revokeKey, setExpire } from '../helpers/gpg.js';
import type { TestRepo } from '../helpers/git.js';
import { catFile, commit, makeRepo, tag } from '../helpers/git.js';

const d = (iso: string): Date => new Date(iso);

function rule(repositories: string[], openpgp: Partial<TrustRuleConfig['openpgp']> = {}): TrustRuleConfig {
  return { repositories, openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [], ...openpgp } };
}


/** Re-armors a commit's signature after `mutate` changed its packet bytes (the payload is unchanged). */
function withMutatedSignature(raw: Buffer, mutate: (packet: Buffer, body: number) => void): Buffer {
  const text = raw.toString('latin1');
  const m = /\ngpgsig ([\s\S]*?-----END PGP SIGNATURE-----)\n/.exec(text) as RegExpExecArray;
  const armor = (m[1] as string).replace(/\n /g, '\n') + '\n';
  const data = Buffer.from(parseArmor(armor).data);
  const body = (data[0] as number) & 0x40 ? 2 : 1 + (1 << ((data[0] as number) & 3));
  mutate(data, body);
  const crc = crc24(data);
  const lines = ['-----BEGIN PGP SIGNATURE-----', '', ...(data.toString('base64').match(/.{1,64}/g) as string[]), `=${Buffer.from([crc >> 16, (crc >> 8) & 0xff, crc & 0xff]).toString('base64')}`, '-----END PGP SIGNATURE-----'];
  return Buffer.from(text.replace(m[1] as string, lines.join('\n ')), 'latin1');
}

/** Offset of the "left 16 bits" field in a v4 signature packet body. */
function left16Offset(packet: Buffer, body: number): number {
  const hashed = packet.readUInt16BE(body + 4);
  const unhashed = packet.readUInt16BE(body + 6 + hashed);
  return body + 6 + hashed + 2 + unhashed;
}

describe('SignatureVerifier with real gpg and git fixtures', () => {
  let home: GpgHome;
  let repo: TestRepo;
  let good: GeneratedKey;
  let stranger: GeneratedKey;
  let withSubkey: GeneratedKey;
  let expiring: GeneratedKey;
  let lateExpiry: GeneratedKey;
  let hardRevoked: GeneratedKey;
  let softRevoked: GeneratedKey;
  let rsa: GeneratedKey;
  const pub: Record<string, string> = {};
  const commits: Record<string, string> = {};

  beforeAll(async () => {
    home = await makeGpgHome();
    repo = await makeRepo({ gpg: home });
    [good, stranger, withSubkey] = [
      await generateKey(home, { name: 'Good Signer', email: 'good@example.invalid' }),
      await generateKey(home, { name: 'Stranger', email: 'stranger@example.invalid' }),
      await generateKey(home, { name: 'Sub Signer', email: 'sub@example.invalid', subkey: true }),
    ];
    // Expires 2024-01-01; signs once before that.
    expiring = await generateKey(home, { name: 'Expiring', email: 'expiring@example.invalid', expire: '2024-01-01', createdAt: d('2023-01-01T00:00:00Z') });
    // No expiry when it signs in 2025; an expiry of 2024-06-01 is added afterwards (self-signature dated 2023-01-02).
    lateExpiry = await generateKey(home, { name: 'Late Expiry', email: 'late@example.invalid', createdAt: d('2023-01-01T00:00:00Z') });
    hardRevoked = await generateKey(home, { name: 'Hard Revoked', email: 'hard@example.invalid', createdAt: d('2024-01-01T00:00:00Z') });
    softRevoked = await generateKey(home, { name: 'Soft Revoked', email: 'soft@example.invalid', createdAt: d('2024-01-01T00:00:00Z') });
    rsa = await generateKey(home, { name: 'RSA Signer', email: 'rsa@example.invalid', algo: 'rsa2048' });

    commits.good = await commit(repo, { sign: good.fingerprint, message: 'good commit\n\nbody' });
    commits.stranger = await commit(repo, { sign: stranger.fingerprint });
    commits.subkey = await commit(repo, { sign: withSubkey.subkeyFingerprint as string });
    commits.beforeExpiry = await commit(repo, { sign: expiring.fingerprint, date: d('2023-06-01T00:00:00Z') });
    commits.afterExpiry = await commit(repo, { sign: lateExpiry.fingerprint, date: d('2025-06-01T00:00:00Z') });
    await setExpire(home, lateExpiry.fingerprint, '2024-06-01', d('2023-01-02T00:00:00Z'));
    commits.hardRevoked = await commit(repo, { sign: hardRevoked.fingerprint, date: d('2025-02-01T00:00:00Z') });
    pub.hardRevoked = await revokeKey(home, hardRevoked.fingerprint, { reason: 'hard', at: d('2025-03-01T00:00:00Z') });
    commits.softRevoked = await commit(repo, { sign: softRevoked.fingerprint, date: d('2025-02-01T00:00:00Z') });
    commits.softRevokedAfter = await commit(repo, { sign: softRevoked.fingerprint, date: d('2025-04-01T00:00:00Z') });
    pub.softRevoked = await revokeKey(home, softRevoked.fingerprint, { reason: 'superseded', at: d('2025-03-01T00:00:00Z') });
    commits.sha1 = await commit(repo, { sign: rsa.fingerprint, digestAlgo: 'SHA1' });
    commits.rsaSha256 = await commit(repo, { sign: rsa.fingerprint });
    commits.unsigned = await commit(repo);
    commits.tag = await tag(repo, 'v1.0.0', { sign: good.fingerprint, message: 'release 1.0.0' });
    pub.lateExpiry = await exportPublicKey(home, lateExpiry.fingerprint);
  }, 120_000);

  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  async function verifier(rules: TrustRuleConfig[] = [rule(['**'], { anyTrustedKey: true })], keys?: string[]): Promise<SignatureVerifier> {
    const armored = keys ?? [good.publicKey, withSubkey.publicKey, expiring.publicKey, pub.lateExpiry, pub.hardRevoked, pub.softRevoked, rsa.publicKey];
    const keyring = await Keyring.fromArmored(armored.map((a, i) => ({ source: `key-${i}.asc`, armored: a as string })));
    return new SignatureVerifier({ keyring, trust: { keyrings: [], rules } });
  }

  async function run(v: SignatureVerifier, name: string, extra: Partial<VerifyObjectRequest> = {}) {
    const kind = name === 'tag' ? 'tag' : 'commit';
    const raw = await catFile(repo, commits[name] as string, kind);
    return v.verifyObject({ raw, kind, ...extra });
  }

  it('verifies a good signature and reports the signer', async () => {
    const r = await run(await verifier(), 'good');
    expect(r.reason).toBeUndefined();
    expect(r.verified).toBe(true);
    expect(r.oid).toBe(commits.good);
    expect(r.method).toBe('openpgp');
    expect(r.signer).toMatchObject({ method: 'openpgp', fingerprint: good.fingerprint, primaryFingerprint: good.fingerprint, keyId: good.keyId, hashAlgorithm: 'SHA256' });
    expect(r.signer?.userIds).toEqual(['Good Signer <good@example.invalid>']);
    expect(Date.parse(r.signer?.signedAt as string)).toBeLessThanOrEqual(Date.now());
  });

  it('verifies a signed annotated tag', async () => {
    const r = await run(await verifier(), 'tag');
    expect(r).toMatchObject({ verified: true, oid: commits.tag, signer: { fingerprint: good.fingerprint } });
  });

  it('rejects a signature by a key that is not in the keyring (UNKNOWN_KEY)', async () => {
    const r = await run(await verifier(), 'stranger');
    expect(r.verified).toBe(false);
    expect(r.reason?.code).toBe('UNKNOWN_KEY');
    expect(r.reason?.message).toContain(stranger.fingerprint);
  });

  it('rejects an unsigned commit (UNSIGNED)', async () => {
    expect((await run(await verifier(), 'unsigned')).reason?.code).toBe('UNSIGNED');
  });

  it('accepts a signing subkey and reports subkey and primary fingerprints', async () => {
    const r = await run(await verifier(), 'subkey');
    expect(r.verified).toBe(true);
    expect(r.signer).toMatchObject({ fingerprint: withSubkey.subkeyFingerprint, primaryFingerprint: withSubkey.fingerprint });
  });

  it('accepts a signature made before the key expired', async () => {
    const r = await run(await verifier(), 'beforeExpiry');
    expect(r.reason).toBeUndefined();
    expect(r.signer?.signedAt).toBe('2023-06-01T00:00:00.000Z');
  });

  it('rejects a signature made after the key expired (KEY_EXPIRED)', async () => {
    const r = await run(await verifier(), 'afterExpiry');
    expect(r.verified).toBe(false);
    expect(r.reason?.code).toBe('KEY_EXPIRED');
  });

  it('rejects a hard-revoked key even for signatures made before the revocation (KEY_REVOKED)', async () => {
    const r = await run(await verifier(), 'hardRevoked');
    expect(r.reason?.code).toBe('KEY_REVOKED');
  });

  it('tolerates a soft revocation issued after the signature, not one issued before', async () => {
    const v = await verifier();
    expect((await run(v, 'softRevoked')).verified).toBe(true);
    expect((await run(v, 'softRevokedAfter')).reason?.code).toBe('KEY_REVOKED');
  });

  it('refuses SHA-1 by default and accepts it only for a key named in allowSha1', async () => {
    expect((await run(await verifier(), 'sha1')).reason?.code).toBe('WEAK_HASH');
    const other = await verifier([rule(['**'], { anyTrustedKey: true, allowSha1: [good.fingerprint] })]);
    expect((await run(other, 'sha1')).reason?.code).toBe('WEAK_HASH');
    const allowed = await verifier([rule(['**'], { anyTrustedKey: true, allowSha1: [rsa.fingerprint] })]);
    const r = await run(allowed, 'sha1');
    expect(r.reason).toBeUndefined();
    expect(r.signer?.hashAlgorithm).toBe('SHA1');
    expect((await run(allowed, 'rsaSha256')).verified).toBe(true);
  });

  it('rejects a commit whose message was changed (BAD_SIGNATURE)', async () => {
    const raw = await catFile(repo, commits.good as string);
    const tampered = Buffer.from(raw.toString('latin1').replace('good commit', 'evil commit'), 'latin1');
    const r = await (await verifier()).verifyObject({ raw: tampered, kind: 'commit' });
    expect(r.reason?.code).toBe('BAD_SIGNATURE');
    expect(r.signer).toBeUndefined();
  });

  it('ignores a wrong "left 16 bits" quick-check field; the maths decide', async () => {
    const v = await verifier();
    for (const name of ['good', 'rsaSha256']) {
      const raw = await catFile(repo, commits[name] as string);
      const wrongQuickCheck = withMutatedSignature(raw, (p, body) => {
        const at = left16Offset(p, body);
        p[at] = (p[at] as number) ^ 0xff;
        p[at + 1] = 0x72;
      });
      expect(wrongQuickCheck.equals(raw)).toBe(false);
      expect((await v.verifyObject({ raw: wrongQuickCheck, kind: 'commit' })).verified).toBe(true);
      const badMaths = withMutatedSignature(raw, (p) => {
        p[p.length - 5] = (p[p.length - 5] as number) ^ 0x01;
      });
      expect((await v.verifyObject({ raw: badMaths, kind: 'commit' })).reason?.code).toBe('BAD_SIGNATURE');
    }
  });

  it('rejects two signature headers (MULTIPLE_SIGNATURES)', async () => {
    const raw = (await catFile(repo, commits.good as string)).toString('latin1');
    const sig = /\ngpgsig [\s\S]*?-----END PGP SIGNATURE-----\n/.exec(raw)?.[0] as string;
    const twice = Buffer.from(raw.replace(sig, sig + sig.slice(1)), 'latin1');
    const r = await (await verifier()).verifyObject({ raw: twice, kind: 'commit' });
    expect(r.reason?.code).toBe('MULTIPLE_SIGNATURES');
  });

  it('rejects a key trusted only for another repository (KEY_NOT_ALLOWED), per call', async () => {
    const v = await verifier([rule(['github.com/acme/infra'], { fingerprints: [good.fingerprint] }), rule(['github.com/acme/*'], { fingerprints: [rsa.fingerprint] })]);
    const allowed = await run(v, 'good', { repository: 'https://github.com/Acme/Infra.git' });
    expect(allowed.verified).toBe(true);
    const other = await run(v, 'good', { repository: 'git@github.com:acme/apps.git' });
    expect(other.verified).toBe(false);
    expect(other.reason?.code).toBe('KEY_NOT_ALLOWED');
    expect(other.reason?.message).toContain(good.fingerprint);
    expect(other.reason?.message).toContain('github.com/acme/apps');
    expect(other.signer?.fingerprint).toBe(good.fingerprint);
    const none = await run(v, 'good', { repository: 'https://gitlab.com/acme/infra' });
    expect(none.reason?.code).toBe('NO_TRUST_RULE');
    expect((await run(v, 'good')).reason?.code).toBe('NO_TRUST_RULE');
  });

  it('allows a subkey signature when the rule names the primary fingerprint', async () => {
    const v = await verifier([rule(['**'], { fingerprints: [withSubkey.fingerprint] })]);
    expect((await run(v, 'subkey')).verified).toBe(true);
    expect((await run(v, 'good')).reason?.code).toBe('KEY_NOT_ALLOWED');
  });

  it('caches the cryptographic outcome per object but applies "now" on every call', async () => {
    const v = await verifier();
    await run(v, 'good');
    await run(v, 'good');
    expect(v.cachedObjects).toBe(1);
    const early = await run(v, 'good', { now: d('2000-01-01T00:00:00Z') });
    expect(early.reason?.code).toBe('KEY_NOT_YET_VALID');
    expect(v.cachedObjects).toBe(1);
  });

  it('does not cache a check that was in flight when the cache was cleared (trust material changed)', async () => {
    const v = await verifier();
    const raw = await catFile(repo, commits.good as string, 'commit');
    const pending = v.verifyObject({ raw, kind: 'commit' });
    v.clearCache();
    expect((await pending).verified).toBe(true);
    expect(v.cachedObjects).toBe(0);
    await run(v, 'good');
    expect(v.cachedObjects).toBe(1);
  });

  it('fails closed on garbage input', async () => {
    const v = await verifier();
    const garbage = await v.verifyObject({ raw: Buffer.from('not a commit'), kind: 'commit' });
    expect(garbage).toMatchObject({ verified: false, method: null, reason: { code: 'MALFORMED_OBJECT' } });
    const wrongKind = await v.verifyObject({ raw: Buffer.from('x'), kind: 'blob' as 'commit' });
    expect(wrongKind).toMatchObject({ verified: false, reason: { code: 'VERIFICATION_ERROR' } });
    const notBuffer = await v.verifyObject({ raw: 'tree x' as unknown as Buffer, kind: 'commit' });
    expect(notBuffer.verified).toBe(false);
  });

  it('verifies commits in a sha256 repository (gpgsig-sha256, sha256 object ids)', async () => {
    const repo256 = await makeRepo({ objectFormat: 'sha256', gpg: home });
    try {
      const id = await commit(repo256, { sign: good.fingerprint });
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const raw = await catFile(repo256, id);
      expect(raw.toString('latin1')).toContain('\ngpgsig-sha256 -----BEGIN PGP SIGNATURE-----');
      const r = await (await verifier()).verifyObject({ raw, kind: 'commit' });
      expect(r).toMatchObject({ verified: true, oid: id, objectFormat: 'sha256' });
      const t = await tag(repo256, 'v2', { sign: good.fingerprint });
      const rt = await (await verifier()).verifyObject({ raw: await catFile(repo256, t, 'tag'), kind: 'tag' });
      expect(rt).toMatchObject({ verified: true, oid: t, objectFormat: 'sha256' });
    } finally {
      await repo256.cleanup();
    }
  });
});

describe('object id and format of any raw object', () => {
  // The reference: the object's id line anywhere in its header, hashed in the usual two steps.
  const reference = (raw: Buffer, kind: 'commit' | 'tag'): { oid: string; objectFormat: ObjectFormat } => {
    const end = raw.indexOf('\n\n');
    const head = raw.subarray(0, end < 0 ? Math.min(raw.length, 4096) : end).toString('latin1');
    const m = new RegExp(`^${kind === 'commit' ? 'tree' : 'object'} ([0-9a-f]+)$`, 'm').exec(head);
    const objectFormat = (m && formatForHexLength((m[1] as string).length)) || 'sha1';
    const h = createHash(objectFormat);
    h.update(`${kind} ${raw.length}\0`, 'latin1');
    return { oid: h.update(raw).digest('hex'), objectFormat };
  };
  const h40 = 'a'.repeat(40);
  const h64 = '0123456789abcdef'.repeat(4);
  const cases: Array<[string, 'commit' | 'tag', string]> = [
    ['sha1 tree line', 'commit', `tree ${h40}\nauthor x\n\nmsg\n`],
    ['sha256 tree line', 'commit', `tree ${h64}\nauthor x\n\nmsg\n`],
    ['CRLF after the id', 'commit', `tree ${h64}\r\nauthor x\n\nmsg\n`],
    ['upper-case id, a later valid line', 'commit', `tree ${h64.toUpperCase()}\ntree ${h64}\n\nmsg\n`],
    ['id of another length', 'commit', `tree ${'b'.repeat(50)}\n\n`],
    ['id line not first', 'commit', `parent ${h40}\ntree ${h64}\n\n`],
    ['id line only after the header', 'commit', `author x\n\ntree ${h64}\n`],
    ['no newline after the id', 'commit', `tree ${h64}`],
    ['id line straight before the body', 'commit', `tree ${h64}\n\nbody`],
    ['"tree" without a space', 'commit', `tree${h64}\n\n`],
    ['empty', 'commit', ''],
    ['long header without a blank line', 'commit', `x\n${'y'.repeat(5000)}\ntree ${h64}\n`],
    ['larger than the scratch buffer', 'commit', `tree ${h64}\n\n${'z'.repeat(70_000)}`],
    ['tag object line', 'tag', `object ${h64}\ntype commit\n\n`],
    ['tag with a tree line only', 'tag', `tree ${h64}\n\n`],
  ];
  const verifier = new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules: [rule(['**'])] } });
  it.each(cases)('%s', async (_name, kind, text) => {
    const raw = Buffer.from(text, 'latin1');
    const result = await verifier.verifyObject({ raw, kind });
    expect(result.verified).toBe(false);
    expect({ oid: result.oid, objectFormat: result.objectFormat }).toEqual(reference(raw, kind));
  });
});
