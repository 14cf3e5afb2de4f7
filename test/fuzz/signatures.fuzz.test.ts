/**
 * SSH signatures (SSHSIG blobs, SSH armor) and gitsign CMS (`SIGNED MESSAGE`) under generated
 * input: the parsers fail only with their own typed errors, and the one verification entry point
 * (SignatureVerifier.verifyObject) never throws and never verifies anything but the exact signed
 * payload under the exact signature it was made with.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncgateError } from '../../src/errors.js';
import { extractSignature, parseGitObject } from '../../src/git/object.js';
import { parseArmor } from '../../src/signatures/armor.js';
import { parseGitsignCms } from '../../src/signatures/gitsign/cms.js';
import { TrustedRootStore } from '../../src/signatures/gitsign/trusted-root.js';
import { GitsignVerifier } from '../../src/signatures/gitsign/verifier.js';
import { Keyring } from '../../src/signatures/keyring.js';
import { SshTrustStore, SshVerifier, parseAllowedSigners, parseSshsig } from '../../src/signatures/ssh/index.js';
import { SshFormatError } from '../../src/signatures/ssh/wire.js';
import { SIGNATURE_REASON_CODES } from '../../src/signatures/types.js';
import { SignatureVerifier } from '../../src/signatures/verify.js';
import { catFile, makeRepo, type TestRepo } from '../helpers/git.js';
import { NOW, TestSigstore, commitPayload as gitsignPayload, signGitsign, signedCommit } from '../helpers/gitsign.js';
import { type SshHome, allowedSignersLine, armorSshsig, commitSignature, decodeSshsig, generateSshKey, makeSshHome, sshCommit, sshString, withCommitSignature } from '../helpers/ssh.js';
import { FUZZ_RUNS, FUZZ_TIMEOUT_MS } from './runs.js';

const CODES = new Set<string>(SIGNATURE_REASON_CODES);

/** Bytes mutations: flip a bit, insert, delete, or overwrite a run with a byte. */
const mutation = (length: number) =>
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(length - 1), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(length), data: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(length - 1), len: fc.integer({ min: 1, max: 16 }) }),
    fc.record({ op: fc.constant('fill' as const), at: fc.nat(length - 1), len: fc.integer({ min: 1, max: 8 }), byte: fc.integer({ min: 0, max: 255 }) }),
  );
type Mutation = ReturnType<typeof mutation> extends fc.Arbitrary<infer T> ? T : never;

function mutate(bytes: Buffer, m: Mutation): Buffer {
  switch (m.op) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[m.at] = out[m.at]! ^ (1 << m.bit);
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, m.at), Buffer.from(m.data), bytes.subarray(m.at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, m.at), bytes.subarray(m.at + m.len)]);
    case 'fill': {
      const out = Buffer.from(bytes);
      out.fill(m.byte, m.at, Math.min(out.length, m.at + m.len));
      return out;
    }
  }
}

/** The signed payload and the decoded signature bytes of a raw commit (undefined when unparsable). */
function signedParts(raw: Buffer): { payload: Buffer; data: Buffer } | undefined {
  try {
    const parts = extractSignature(parseGitObject(raw, 'commit'));
    return { payload: parts.payload, data: Buffer.from(parseArmor(parts.signature, { allowTrailingEmptyLine: true }).data) };
  } catch {
    return undefined;
  }
}

/**
 * verifyObject on a mutated commit: never throws, a known reason code when not verified, and
 * when verified the payload and decoded signature are exactly the original ones.
 */
async function neverForged(verifier: SignatureVerifier, original: Buffer, raw: Buffer, now?: Date): Promise<boolean> {
  const result = await verifier.verifyObject({ raw, kind: 'commit', ...(now ? { now } : {}) });
  if (!result.verified) {
    expect(CODES.has(result.reason!.code), result.reason!.code).toBe(true);
    return false;
  }
  const before = signedParts(original)!;
  const after = signedParts(raw);
  expect(after, 'a verified object has parsable signed parts').toBeDefined();
  expect(after!.payload.equals(before.payload)).toBe(true);
  expect(after!.data.equals(before.data)).toBe(true);
  return true;
}

describe('SSH signatures under generated input', () => {
  let home: SshHome;
  let repo: TestRepo;
  let raw: Buffer;
  let blob: Buffer;
  let verifier: SignatureVerifier;

  beforeAll(async () => {
    home = await makeSshHome();
    repo = await makeRepo();
    const key = await generateSshKey(home, 'ed25519', 'fuzz');
    raw = await catFile(repo, await sshCommit(repo, key));
    blob = decodeSshsig(commitSignature(raw));
    const signers = parseAllowedSigners(allowedSignersLine('committer@example.invalid', key), 'allowed_signers');
    verifier = new SignatureVerifier({
      keyring: new Keyring(),
      trust: { keyrings: [], rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, ssh: { principals: [], anyAllowedSigner: true, requireCommitterMatch: true, windowAt: 'now' } }] },
      methods: [new SshVerifier(new SshTrustStore(signers, []))],
      cacheSize: 0,
    });
  });
  afterAll(async () => {
    await repo?.cleanup();
    await home?.cleanup();
  });

  it('the untouched commit verifies (so the properties below are meaningful)', async () => {
    expect((await verifier.verifyObject({ raw, kind: 'commit' })).verified).toBe(true);
  });

  it(
    'SSHSIG blobs: parseSshsig returns or throws SshFormatError only',
    () => {
      const field = fc.oneof(fc.uint8Array({ maxLength: 64 }).map((a) => sshString(Buffer.from(a))), fc.constantFrom(sshString('git'), sshString(''), sshString('sha512'), sshString('ssh-ed25519')));
      const structured = fc
        .tuple(fc.constantFrom(Buffer.from('SSHSIG'), Buffer.from('SSHSIh')), fc.constantFrom(1, 0, 2, 0xffffffff), fc.array(field, { maxLength: 6 }), fc.uint8Array({ maxLength: 8 }))
        .map(([magic, version, fields, tail]) => {
          const v = Buffer.alloc(4);
          v.writeUInt32BE(version);
          return Buffer.concat([magic, v, ...fields, Buffer.from(tail)]);
        });
      const mutated = mutation(blob.length).map((m) => mutate(blob, m));
      fc.assert(
        fc.property(fc.oneof(structured, mutated, fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a))), (bytes) => {
          try {
            parseSshsig(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(SshFormatError);
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a mutated SSHSIG blob (re-armored) or mutated commit bytes never verify a different payload or signature',
    async () => {
      let verified = 0;
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.oneof(mutation(blob.length), mutation(raw.length)), async (inBlob, m) => {
          const candidate = inBlob && m.op !== 'insert' && m.at < blob.length ? withCommitSignature(raw, armorSshsig(mutate(blob, m))) : mutate(raw, m);
          if (await neverForged(verifier, raw, candidate)) verified++;
        }),
        { numRuns: FUZZ_RUNS },
      );
      // Nearly every mutation changes signed content; the rare survivors were checked above to be
      // the identical payload and signature (e.g. a mutation inside the commit that cancels out).
      expect(verified).toBeLessThan(FUZZ_RUNS);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'SSH armor re-wrapped at another width, with CRLF, trailing blanks or an extra header is refused',
    async () => {
      const variant = fc.oneof(
        fc.integer({ min: 4, max: 200 }).filter((w) => w !== 70).map((w) => armorSshsig(blob, w)),
        fc.constant(armorSshsig(blob).replace(/\n/g, '\r\n')),
        fc.constant(armorSshsig(blob).replace(/\n(?=-----END)/, ' \n')),
        fc.constant(armorSshsig(blob).replace('-----\n', '-----\nComment: x\n\n')),
        fc.constant(armorSshsig(blob).replace('-----BEGIN', '-----BEGIN PGP')),
      );
      await fc.assert(
        fc.asyncProperty(variant, async (armor) => {
          const result = await verifier.verifyObject({ raw: withCommitSignature(raw, armor), kind: 'commit' });
          // Re-wrapping only changes framing, but the SSH verifier is strict: ssh-keygen's exact armor only.
          if (armor !== armorSshsig(blob)) expect(result.verified, armor).toBe(false);
        }),
        { numRuns: Math.min(FUZZ_RUNS, 300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('gitsign CMS signatures under generated input', () => {
  let sigstore: TestSigstore;
  let dir: string;
  let raw: Buffer;
  let cms: Buffer;
  let verifier: SignatureVerifier;

  beforeAll(async () => {
    sigstore = new TestSigstore();
    dir = mkdtempSync(path.join(tmpdir(), 'syncgate-fuzz-gitsign-'));
    writeFileSync(path.join(dir, 'root.json'), sigstore.trustedRoot());
    const store = await TrustedRootStore.open(path.join(dir, 'root.json'));
    const payload = gitsignPayload();
    cms = await signGitsign(payload, { leaf: sigstore.leaf(), rekor: { sigstore } });
    raw = signedCommit(payload, cms);
    verifier = new SignatureVerifier({
      keyring: new Keyring(),
      trust: {
        keyrings: [],
        rules: [{ repositories: ['**'], openpgp: { fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }, gitsign: { identities: [{ issuer: 'https://accounts.example.com', subject: 'alice@example.com' }], requireCommitterMatch: false } }],
      },
      methods: [new GitsignVerifier({ trustedRoot: store })],
      cacheSize: 0,
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the untouched commit verifies (so the properties below are meaningful)', async () => {
    const r = await verifier.verifyObject({ raw, kind: 'commit', now: NOW });
    expect(r.reason).toBeUndefined();
    expect(r.verified).toBe(true);
  });

  it('the same signature in another encoding is refused: SignedData version 3, a checkpoint signature in non-canonical base64', async () => {
    const payload = gitsignPayload();
    const v3 = Buffer.from(cms);
    const at = v3.indexOf(Buffer.from([0x02, 0x01, 0x01]), 15);
    v3[at + 2] = 3;
    const r3 = await verifier.verifyObject({ raw: signedCommit(payload, v3), kind: 'commit', now: NOW });
    expect(r3.verified).toBe(false);
    expect(r3.reason?.code).toBe('CMS_MALFORMED');

    const reencode = (change: (b64: string) => string) =>
      signGitsign(payload, {
        leaf: sigstore.leaf(),
        rekor: {
          sigstore,
          mutate: (e) => {
            const env = e.inclusionProof!.checkpoint.envelope;
            e.inclusionProof!.checkpoint.envelope = env.replace(/^(\u2014 \S+ )(\S+)$/m, (_m, head: string, b64: string) => head + change(b64));
          },
        },
      });
    const junk = await reencode((b64) => `${b64.slice(0, 10)}<${b64.slice(10)}`);
    const trailing = await reencode((b64) => {
      const at = b64.search(/=*$/) - 1;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      return b64.endsWith('=') ? b64.slice(0, at) + alphabet[alphabet.indexOf(b64[at]!) ^ 1]! + b64.slice(at + 1) : `${b64}A`;
    });
    for (const bad of [junk, trailing]) {
      const r = await verifier.verifyObject({ raw: signedCommit(payload, bad), kind: 'commit', now: NOW });
      expect(r.verified).toBe(false);
      expect(r.reason?.code).toBe('REKOR_CHECKPOINT_INVALID');
    }
  });

  it(
    'CMS DER: parseGitsignCms returns or throws a coded SyncgateError only',
    () => {
      const mutated = mutation(cms.length).map((m) => mutate(cms, m));
      fc.assert(
        fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a))), (bytes) => {
          try {
            parseGitsignCms(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(SyncgateError);
            expect(CODES.has((err as SyncgateError).code), (err as SyncgateError).code).toBe(true);
          }
        }),
        { numRuns: FUZZ_RUNS },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'a mutated CMS (re-armored as SIGNED MESSAGE) or mutated commit bytes never verify a different payload or signature',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.boolean(), fc.oneof(mutation(cms.length), mutation(raw.length)), async (inCms, m) => {
          const candidate = inCms && m.op !== 'insert' && m.at < cms.length ? signedCommit(gitsignPayload(), mutate(cms, m)) : mutate(raw, m);
          await neverForged(verifier, raw, candidate, NOW);
        }),
        { numRuns: Math.max(50, Math.floor(FUZZ_RUNS / 2)) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
