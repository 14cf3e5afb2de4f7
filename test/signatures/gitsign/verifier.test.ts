/**
 * gitsign verification with signatures made at test time (test Fulcio, CT log and Rekor; see
 * test/helpers/gitsign.ts): the good path, every bad case with its reason code, the identity
 * rules of the trust policy, the Rekor lookup against a 127.0.0.1 stand-in, and trusted-root reload.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustRuleConfig } from '../../../src/config/trust.js';
import { GitsignVerifier } from '../../../src/signatures/gitsign/verifier.js';
import { TrustedRootStore } from '../../../src/signatures/gitsign/trusted-root.js';
import type { RekorLookup } from '../../../src/signatures/gitsign/rekor-client.js';
import { Keyring } from '../../../src/signatures/keyring.js';
import { SignatureVerifier } from '../../../src/signatures/verify.js';
import { NOW, TestSigstore, commitPayload, signGitsign, signedCommit } from '../../helpers/gitsign.js';

const ISSUER = 'https://accounts.example.com';
let dir: string;
let sigstore: TestSigstore;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'syncgate-gitsign-'));
  sigstore = new TestSigstore();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function verifierFor(root: Buffer, rule: Partial<TrustRuleConfig['gitsign']> = {}, rekor?: RekorLookup): Promise<SignatureVerifier> {
  const file = path.join(dir, `root-${n++}.json`);
  writeFileSync(file, root);
  const store = await TrustedRootStore.open(file);
  const gitsign = { identities: [{ issuer: ISSUER, subject: 'alice@example.com' }], requireCommitterMatch: false, ...rule };
  return new SignatureVerifier({
    keyring: new Keyring(),
    trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, gitsign }] },
    methods: [new GitsignVerifier({ trustedRoot: store, ...(rekor ? { rekor } : {}) })],
  });
}

async function check(raw: Buffer, verifier?: SignatureVerifier) {
  const v = verifier ?? (await verifierFor(sigstore.trustedRoot()));
  return v.verifyObject({ raw, kind: 'commit', now: NOW });
}

describe('gitsign: a good offline-mode signature', () => {
  it('verifies, with the Fulcio identity and the Rekor evidence', async () => {
    const payload = commitPayload();
    const leaf = sigstore.leaf();
    const raw = signedCommit(payload, await signGitsign(payload, { leaf, rekor: { sigstore } }));
    const result = await check(raw);
    expect(result.reason).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.method).toBe('gitsign');
    expect(result.signer?.gitsign).toMatchObject({
      issuer: ISSUER,
      subject: 'alice@example.com',
      subjectType: 'email',
      integratedTime: '2026-06-01T12:01:00.000Z',
      rekorSource: 'embedded',
      committerEmailMatch: true,
    });
    expect(result.signer?.gitsign?.rekorLogIndex).toMatch(/^\d+$/);
    expect(result.signer?.gitsign?.certificateFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
});

/** Signs the default payload with options; returns the raw signed commit. */
async function commit(opts: Partial<Parameters<typeof signGitsign>[1]> = {}, payload = commitPayload()): Promise<Buffer> {
  const leaf = opts.leaf ?? sigstore.leaf();
  return signedCommit(payload, await signGitsign(payload, { leaf, rekor: { sigstore }, ...opts }));
}

describe('gitsign: each bad signature is denied with its own reason', () => {
  it('CMS with two signers: CMS_MULTIPLE_SIGNERS', async () => {
    expect((await check(await commit({ twoSigners: true }))).reason?.code).toBe('CMS_MULTIPLE_SIGNERS');
  });

  it('an extra certificate that does not chain: CMS_EXTRA_CERT_UNCHAINED', async () => {
    const stranger = new TestSigstore();
    expect((await check(await commit({ extraCerts: [stranger.intermediateCert] }))).reason?.code).toBe('CMS_EXTRA_CERT_UNCHAINED');
    // a certificate that chains from the leaf but is not the trusted root's is refused too
    const other = sigstore.leaf();
    expect((await check(await commit({ extraCerts: [other.der] }))).reason?.code).toBe('CMS_EXTRA_CERT_UNCHAINED');
  });

  it('an extra certificate that chains (the intermediate, as 2022 gitsign wrote it) is accepted', async () => {
    const result = await check(await commit({ extraCerts: [sigstore.intermediateCert] }));
    expect(result.reason).toBeUndefined();
    expect(result.verified).toBe(true);
  });

  it('payload changed after signing: CMS_DIGEST_MISMATCH', async () => {
    const payload = commitPayload();
    const leaf = sigstore.leaf();
    const cms = await signGitsign(payload, { leaf, rekor: { sigstore } });
    expect((await check(signedCommit(commitPayload('tampered\n'), cms))).reason?.code).toBe('CMS_DIGEST_MISMATCH');
  });

  it('signature by another key: BAD_SIGNATURE', async () => {
    const other = sigstore.leaf();
    expect((await check(await commit({ signingKey: other.key.privateKey }))).reason?.code).toBe('BAD_SIGNATURE');
  });

  it('signed attributes not in DER order, SHA-1 digest, truncated CMS: CMS_MALFORMED / CMS_UNSUPPORTED_ALGORITHM', async () => {
    expect((await check(await commit({ unsortedAttributes: true }))).reason?.code).toBe('CMS_MALFORMED');
    expect((await check(await commit({ digestAlgorithm: 'sha1' }))).reason?.code).toBe('CMS_UNSUPPORTED_ALGORITHM');
    const payload = commitPayload();
    const cms = await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } });
    expect((await check(signedCommit(payload, cms.subarray(0, cms.length - 10)))).reason?.code).toBe('CMS_MALFORMED');
  });

  it('certificate outside its validity at the Rekor time: CERT_NOT_VALID_AT_REKOR_TIME', async () => {
    const late = await commit({ rekor: { sigstore, when: new Date('2026-06-01T12:11:00Z') } });
    expect((await check(late)).reason?.code).toBe('CERT_NOT_VALID_AT_REKOR_TIME');
    const early = await commit({ rekor: { sigstore, when: new Date('2026-06-01T11:59:59Z') } });
    expect((await check(early)).reason?.code).toBe('CERT_NOT_VALID_AT_REKOR_TIME');
    // bounds are inclusive (real commits are often logged in the certificate's first second)
    const edge = await commit({ rekor: { sigstore, when: new Date('2026-06-01T12:00:00Z') } });
    expect((await check(edge)).verified).toBe(true);
  });

  it('tampered SET, integrated time or log index: REKOR_SET_INVALID', async () => {
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[b.length - 5]! ^= 1;
      return b.toString('base64');
    };
    const set = await commit({ rekor: { sigstore, mutate: (e) => (e.inclusionPromise = { signedEntryTimestamp: flip(e.inclusionPromise!.signedEntryTimestamp) }) } });
    expect((await check(set)).reason?.code).toBe('REKOR_SET_INVALID');
    const time = await commit({ rekor: { sigstore, mutate: (e) => (e.integratedTime = String(Number(e.integratedTime) + 1)) } });
    expect((await check(time)).reason?.code).toBe('REKOR_SET_INVALID');
    const index = await commit({ rekor: { sigstore, mutate: (e) => (e.logIndex = String(Number(e.logIndex) + 1)) } });
    expect((await check(index)).reason?.code).toBe('REKOR_SET_INVALID');
    const noSet = await commit({ rekor: { sigstore, mutate: (e) => delete e.inclusionPromise } });
    expect((await check(noSet)).reason?.code).toBe('REKOR_SET_INVALID');
  });

  it('tampered inclusion proof: REKOR_INCLUSION_PROOF_INVALID', async () => {
    const extraHash = await commit({ rekor: { sigstore, mutate: (e) => e.inclusionProof!.hashes.push(Buffer.alloc(32, 7).toString('base64')) } });
    expect((await check(extraHash)).reason?.code).toBe('REKOR_INCLUSION_PROOF_INVALID');
    const index = await commit({ rekor: { sigstore, mutate: (e) => (e.inclusionProof!.logIndex = '1') } });
    expect((await check(index)).reason?.code).toBe('REKOR_INCLUSION_PROOF_INVALID');
  });

  it('tampered checkpoint: REKOR_CHECKPOINT_INVALID', async () => {
    const badSig = await commit({
      rekor: {
        sigstore,
        mutate: (e) => {
          const cp = e.inclusionProof!.checkpoint;
          cp.envelope = cp.envelope.replace(/(— \S+ )(\S+)\n/, (_m, head: string, sig: string) => {
            const b = Buffer.from(sig, 'base64');
            b[b.length - 3]! ^= 1;
            return `${head}${b.toString('base64')}\n`;
          });
        },
      },
    });
    expect((await check(badSig)).reason?.code).toBe('REKOR_CHECKPOINT_INVALID');
    const otherRoot = await commit({ rekor: { sigstore, mutate: (e) => (e.inclusionProof!.rootHash = Buffer.alloc(32, 1).toString('base64')) } });
    expect((await check(otherRoot)).reason?.code).toBe('REKOR_CHECKPOINT_INVALID');
  });

  it('a Rekor entry for other content: REKOR_ENTRY_MISMATCH', async () => {
    const payload = commitPayload();
    const leaf = sigstore.leaf();
    const { hashedrekordBody } = await import('../../../src/signatures/gitsign/hashedrekord.js');
    const otherBody = hashedrekordBody(Buffer.alloc(32, 9), Buffer.from('not this signature'), leaf.der);
    const raw = signedCommit(payload, await signGitsign(payload, { leaf, rekor: { sigstore, keepBody: otherBody } }));
    expect((await check(raw)).reason?.code).toBe('REKOR_ENTRY_MISMATCH');
  });

  it('a Rekor entry from a log the trusted root does not know: REKOR_LOG_UNKNOWN', async () => {
    const v = await verifierFor(sigstore.trustedRoot({ otherRekor: new TestSigstore().rekor.key.publicKey }));
    expect((await check(await commit(), v)).reason?.code).toBe('REKOR_LOG_UNKNOWN');
  });

  it('trusted root with no Rekor or no CT keys: TRUSTED_ROOT_NO_REKOR_KEYS / TRUSTED_ROOT_NO_CT_KEYS', async () => {
    const raw = await commit();
    expect((await check(raw, await verifierFor(sigstore.trustedRoot({ tlogs: true })))).reason?.code).toBe('TRUSTED_ROOT_NO_REKOR_KEYS');
    expect((await check(raw, await verifierFor(sigstore.trustedRoot({ ctlogs: true })))).reason?.code).toBe('TRUSTED_ROOT_NO_CT_KEYS');
  });

  it('a trusted root whose log key has no validFor.start does not load: TRUSTED_ROOT_INVALID', async () => {
    await expect(verifierFor(sigstore.trustedRoot({ tlogStart: true }))).rejects.toMatchObject({ code: 'TRUSTED_ROOT_INVALID' });
  });

  it('no trusted root configured: TRUSTED_ROOT_MISSING', async () => {
    const v = new SignatureVerifier({ keyring: new Keyring(), trust: { keyrings: [], rules: [{ repositories: ['**'] }] } as never, methods: [new GitsignVerifier()] });
    expect((await check(await commit(), v)).reason?.code).toBe('TRUSTED_ROOT_MISSING');
  });

  it('certificate without SCT, or with an SCT from an unknown CT log: SCT_INVALID', async () => {
    expect((await check(await commit({ leaf: sigstore.leaf({ ct: undefined }) }))).reason?.code).toBe('SCT_INVALID');
    expect((await check(await commit({ leaf: sigstore.leaf({ ct: new TestSigstore().ct }) }))).reason?.code).toBe('SCT_INVALID');
  });

  it('certificate from another CA: CERT_CHAIN_INVALID; without codeSigning: CERT_CHAIN_INVALID', async () => {
    const stranger = new TestSigstore();
    const leaf = stranger.leaf({ ct: sigstore.ct });
    expect((await check(await commit({ leaf }))).reason?.code).toBe('CERT_CHAIN_INVALID');
    expect((await check(await commit({ leaf: sigstore.leaf({ codeSigning: false }) }))).reason?.code).toBe('CERT_CHAIN_INVALID');
  });

  it('no Rekor entry and no Rekor URL: REKOR_ENTRY_MISSING (never a downgrade to signature only)', async () => {
    const result = await check(await commit({ rekor: 'none' }));
    expect(result.verified).toBe(false);
    expect(result.reason?.code).toBe('REKOR_ENTRY_MISSING');
    expect(result.signer).toBeUndefined();
  });

  it('a pre-release prototype Rekor attribute: REKOR_ENTRY_MALFORMED', async () => {
    const { seq, oid, setOf, tlv } = await import('../../helpers/gitsign.js');
    const rawAttribute = seq(oid('1.3.6.1.4.1.57264.3.1'), setOf(tlv(0x13, Buffer.from('12345'))));
    expect((await check(await commit({ rekor: { rawAttribute } }))).reason?.code).toBe('REKOR_ENTRY_MALFORMED');
    const garbage = seq(oid('1.3.6.1.4.1.57264.3.1'), setOf(tlv(0x04, Buffer.from([0xff, 0xff, 0xff]))));
    expect((await check(await commit({ rekor: { rawAttribute: garbage } }))).reason?.code).toBe('REKOR_ENTRY_MALFORMED');
  });
});

describe('gitsign: identity rules of the trust policy', () => {
  it('subject and issuer must both match: IDENTITY_NOT_ALLOWED', async () => {
    const raw = await commit();
    expect((await check(raw, await verifierFor(sigstore.trustedRoot(), { identities: [{ issuer: ISSUER, subject: 'bob@example.com' }] }))).reason?.code).toBe('IDENTITY_NOT_ALLOWED');
    expect((await check(raw, await verifierFor(sigstore.trustedRoot(), { identities: [{ issuer: 'https://evil.example', subject: 'alice@example.com' }] }))).reason?.code).toBe('IDENTITY_NOT_ALLOWED');
    expect((await check(raw, await verifierFor(sigstore.trustedRoot(), { identities: [] }))).reason?.code).toBe('IDENTITY_NOT_ALLOWED');
  });

  it('subject regexes are anchored', async () => {
    const raw = await commit({ leaf: sigstore.leaf({ email: 'xalice@example.com.evil' }) });
    const v = await verifierFor(sigstore.trustedRoot(), { identities: [{ issuer: ISSUER, subjectRegex: 'alice@example\\.com' }] });
    expect((await check(raw, v)).reason?.code).toBe('IDENTITY_NOT_ALLOWED');
    const ok = await verifierFor(sigstore.trustedRoot(), { identities: [{ issuer: ISSUER, subjectRegex: '[a-z]+@example\\.com' }] });
    expect((await check(await commit(), ok)).verified).toBe(true);
  });

  it('URI SANs (CI workloads) match by regex', async () => {
    const uri = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
    const raw = await commit({ leaf: sigstore.leaf({ email: undefined, uri, oidcIssuer: 'https://token.actions.githubusercontent.com', oidcIssuerV1: undefined }) });
    const v = await verifierFor(sigstore.trustedRoot(), { identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegex: 'https://github\\.com/acme/[^/]+/\\.github/workflows/release\\.yml@refs/heads/main' }] });
    const result = await check(raw, v);
    expect(result.reason).toBeUndefined();
    expect(result.signer?.gitsign).toMatchObject({ subject: uri, subjectType: 'uri', committerEmailMatch: false });
  });

  it('OIDC issuer extensions 1.1 and 1.8 that disagree: IDENTITY_NOT_ALLOWED', async () => {
    const raw = await commit({ leaf: sigstore.leaf({ oidcIssuerV1: 'https://other.example' }) });
    expect((await check(raw)).reason?.code).toBe('IDENTITY_NOT_ALLOWED');
  });

  it('requireCommitterMatch: the SAN email must be the committer email: COMMITTER_MISMATCH', async () => {
    const v = await verifierFor(sigstore.trustedRoot(), { requireCommitterMatch: true });
    expect((await check(await commit(), v)).verified).toBe(true);
    const payload = commitPayload('by someone else\n', 'mallory@example.com');
    const raw = signedCommit(payload, await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } }));
    expect((await check(raw, v)).reason?.code).toBe('COMMITTER_MISMATCH');
    expect((await check(raw)).verified).toBe(true);
  });
});

describe('gitsign: default-mode (online) commits with a Rekor URL (127.0.0.1 stand-in)', () => {
  interface StandIn {
    url: string;
    close: () => Promise<void>;
    requests: string[];
    mode: { status?: number; delayMs?: number; index?: string[] };
  }
  const entries = new Map<string, Record<string, unknown>>();
  const byHash = new Map<string, string[]>();

  async function standIn(): Promise<StandIn> {
    const http = await import('node:http');
    const requests: string[] = [];
    const mode: StandIn['mode'] = {};
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url}`);
        const answer = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        setTimeout(() => {
          if (mode.status) return answer(mode.status, { code: mode.status, message: 'stand-in error' });
          if (req.method === 'POST' && req.url === '/api/v1/index/retrieve') {
            const hash = (JSON.parse(body) as { hash: string }).hash.replace(/^sha256:/, '');
            return answer(200, mode.index ?? byHash.get(hash) ?? []);
          }
          const m = /^\/api\/v1\/log\/entries\/([0-9a-f]+)$/.exec(req.url ?? '');
          const entry = m && entries.get(m[1] as string);
          if (req.method === 'GET' && entry) return answer(200, entry);
          return answer(404, { code: 404, message: 'not found' });
        }, mode.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    return { url: `http://127.0.0.1:${port}`, requests, mode, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }

  /** An online-mode commit: no embedded entry; gitsign logged a signature over the commit id text. */
  async function onlineCommit(opts: { logContent?: string } = {}) {
    const { createHash, sign } = await import('node:crypto');
    const { hashedrekordBody } = await import('../../../src/signatures/gitsign/hashedrekord.js');
    const payload = commitPayload(`online ${n++}\n`);
    const leaf = sigstore.leaf();
    const raw = signedCommit(payload, await signGitsign(payload, { leaf, rekor: 'none' }));
    const oid = createHash('sha1').update(`commit ${raw.length}\0`).update(raw).digest('hex');
    const content = Buffer.from(opts.logContent ?? oid);
    const digest = createHash('sha256').update(content).digest();
    const body = hashedrekordBody(digest, sign('sha256', content, leaf.key.privateKey), leaf.der);
    const map = await sigstore.rekor.log(body, new Date('2026-06-01T12:01:00Z'));
    const uuid = Object.keys(map)[0] as string;
    entries.set(uuid, map);
    const lookupHash = createHash('sha256').update(oid).digest('hex');
    byHash.set(lookupHash, [...(byHash.get(lookupHash) ?? []), uuid]);
    return { raw, oid, uuid };
  }

  it('looks the entry up by the commit hash and verifies it offline', async () => {
    const rekor = await standIn();
    try {
      const { RekorClient } = await import('../../../src/signatures/gitsign/rekor-client.js');
      const v = await verifierFor(sigstore.trustedRoot(), {}, new RekorClient({ url: rekor.url }));
      const { raw } = await onlineCommit();
      const result = await check(raw, v);
      expect(result.reason).toBeUndefined();
      expect(result.signer?.gitsign).toMatchObject({ rekorSource: 'lookup', subject: 'alice@example.com' });
      expect(rekor.requests[0]).toBe('POST /api/v1/index/retrieve');
    } finally {
      await rekor.close();
    }
  });

  it('an entry for other content or another certificate: REKOR_ENTRY_MISMATCH', async () => {
    const rekor = await standIn();
    try {
      const { RekorClient } = await import('../../../src/signatures/gitsign/rekor-client.js');
      const v = await verifierFor(sigstore.trustedRoot(), {}, new RekorClient({ url: rekor.url }));
      const { raw } = await onlineCommit();
      const other = await onlineCommit({ logContent: 'something else' });
      rekor.mode.index = [other.uuid];
      expect((await check(raw, v)).reason?.code).toBe('REKOR_ENTRY_MISMATCH');
      const third = await onlineCommit();
      rekor.mode.index = [byHash.get((await import('node:crypto')).createHash('sha256').update(third.oid).digest('hex'))![0]!];
      expect((await check(raw, v)).reason?.code).toBe('REKOR_ENTRY_MISMATCH');
    } finally {
      await rekor.close();
    }
  });

  it('no entry: REKOR_ENTRY_MISSING; server error or timeout: REKOR_LOOKUP_FAILED, not cached', async () => {
    const rekor = await standIn();
    try {
      const { RekorClient } = await import('../../../src/signatures/gitsign/rekor-client.js');
      const v = await verifierFor(sigstore.trustedRoot(), {}, new RekorClient({ url: rekor.url, timeoutMs: 300 }));
      const { raw } = await onlineCommit();
      rekor.mode.index = [];
      expect((await check(raw, v)).reason?.code).toBe('REKOR_ENTRY_MISSING');
      delete rekor.mode.index;
      rekor.mode.status = 503;
      const failed = await check(raw, v);
      expect(failed.reason?.code).toBe('REKOR_LOOKUP_FAILED');
      expect(failed.reason?.message).not.toContain('127.0.0.1');
      delete rekor.mode.status;
      rekor.mode.delayMs = 1000;
      expect((await check(raw, v)).reason?.code).toBe('REKOR_LOOKUP_FAILED');
      delete rekor.mode.delayMs;
      expect((await check(raw, v)).verified).toBe(true);
    } finally {
      await rekor.close();
    }
  });
});

describe('gitsign: trusted root reload', () => {
  it('a changed root is used without restart (cached outcomes dropped); a bad one keeps the last good', async () => {
    const file = path.join(dir, 'reloaded-root.json');
    writeFileSync(file, sigstore.trustedRoot());
    const store = await TrustedRootStore.open(file);
    const v = new SignatureVerifier({
      keyring: new Keyring(),
      trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, gitsign: { identities: [{ issuer: ISSUER, subject: 'alice@example.com' }], requireCommitterMatch: false } }] },
      methods: [new GitsignVerifier({ trustedRoot: store })],
    });
    const raw = await commit();
    expect((await check(raw, v)).verified).toBe(true);
    expect(await store.reload()).toMatchObject({ status: 'unchanged' });

    // An operator swaps in a root for another instance: the cached "verified" must not survive.
    const other = new TestSigstore();
    writeFileSync(file, other.trustedRoot());
    const swapped = await store.reload();
    expect(swapped.status).toBe('reloaded');
    expect(swapped.digest).toBe(store.current().digest);
    expect((await check(raw, v)).reason?.code).toBe('REKOR_LOG_UNKNOWN');

    // A broken file, or a root without Rekor keys, is reported and the last good root stays.
    writeFileSync(file, '{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "tlogs": [');
    const bad = await store.reload();
    expect(bad).toMatchObject({ status: 'kept-last-good', digest: swapped.digest, error: { code: 'TRUSTED_ROOT_INVALID' } });
    writeFileSync(file, sigstore.trustedRoot({ tlogs: true }));
    expect(await store.reload()).toMatchObject({ status: 'kept-last-good', error: { code: 'TRUSTED_ROOT_NO_REKOR_KEYS' } });
    rmSync(file);
    expect(await store.reload()).toMatchObject({ status: 'kept-last-good', error: { code: 'TRUSTED_ROOT_INVALID' } });
    writeFileSync(file, sigstore.trustedRoot());
    expect(await store.reload()).toMatchObject({ status: 'reloaded' });
    expect((await check(raw, v)).verified).toBe(true);
  });
});

describe('gitsign: signed annotated tags (Flux Tag / TagAndHEAD)', () => {
  /** A tag object as `git tag -s` with gitsign writes it: payload, then the armored CMS block. */
  function tagPayload(taggerEmail = 'alice@example.com'): Buffer {
    return Buffer.from(
      `object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag v1.0.0\ntagger Alice <${taggerEmail}> 1780315200 +0000\n\nrelease v1.0.0\n`,
    );
  }
  function signedTag(payload: Buffer, cms: Buffer): Buffer {
    const b64 = cms.toString('base64').match(/.{1,64}/g) ?? [];
    return Buffer.concat([payload, Buffer.from(['-----BEGIN SIGNED MESSAGE-----', ...b64, '-----END SIGNED MESSAGE-----', ''].join('\n'))]);
  }

  it('verifies a tag and binds the identity to the tagger when required', async () => {
    const payload = tagPayload();
    const raw = signedTag(payload, await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } }));
    const verifier = await verifierFor(sigstore.trustedRoot(), { requireCommitterMatch: true });
    const ok = await verifier.verifyObject({ raw, kind: 'tag', now: NOW });
    expect(ok.reason).toBeUndefined();
    expect(ok).toMatchObject({ verified: true, method: 'gitsign' });

    const other = tagPayload('mallory@example.com');
    const mismatch = signedTag(other, await signGitsign(other, { leaf: sigstore.leaf(), rekor: { sigstore } }));
    expect((await verifier.verifyObject({ raw: mismatch, kind: 'tag', now: NOW })).reason?.code).toBe('COMMITTER_MISMATCH');
  });

  it('denies a tag whose message was changed after signing', async () => {
    const payload = tagPayload();
    const cms = await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } });
    const tampered = signedTag(Buffer.from(payload.toString().replace('release v1.0.0', 'release v6.6.6')), cms);
    const verifier = await verifierFor(sigstore.trustedRoot());
    expect((await verifier.verifyObject({ raw: tampered, kind: 'tag', now: NOW })).reason?.code).toBe('CMS_DIGEST_MISMATCH');
  });
});
