/**
 * OpenPGP verification of a detached signature over a git payload, with openpgp.js doing the
 * maths and the key-validity walk. Decisions (DESIGN.md §3, specs/commit-signatures.md):
 *  - the packet framing is checked first by openpgp-packets.ts;
 *  - key validity is judged at the signature creation time (openpgp.js getSigningKey(date));
 *    hard revocations apply whatever the dates, soft ones only from their creation time;
 *  - the "left 16 bits" quick-check is recomputed before verify (GitHub's pre-2021-04 signatures
 *    carry a wrong one); the public-key maths decide;
 *  - weak hashes / key algorithms are reported as facts, judged later per trust rule.
 */
import { createHash } from 'node:crypto';
import type * as pgp from 'openpgp';
import { SignatureError } from '../errors.js';
import type { KeyringEntry, Keyring } from './keyring.js';
import type { CryptoOutcome, MethodInput, MethodVerifier, Reason, WeakFact } from './method.js';
import { openpgp } from './openpgp-lib.js';
import type { ParsedSignaturePacket } from './openpgp-packets.js';
import { HASH_ALGORITHMS, PUBLIC_KEY_ALGORITHMS, parseDetachedSignature } from './openpgp-packets.js';
import type { SignerEvidence } from './types.js';

/** Algorithm checks are ours (WEAK_HASH / WEAK_ALGORITHM), so openpgp.js must not pre-empt them. */
const VERIFY_CONFIG: pgp.Config = {
  ...openpgp.config,
  rejectMessageHashAlgorithms: new Set(),
  rejectPublicKeyAlgorithms: new Set(),
  minRSABits: 1024,
};

const NODE_HASH: Record<number, string> = { 1: 'md5', 2: 'sha1', 3: 'ripemd160', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224', 12: 'sha3-256', 14: 'sha3-512' };
const WEAK_HASHES = new Set([1, 2, 3]);
const SHA1 = 2;
const DSA_LIKE = new Set([16, 17, 20]);
const RSA = new Set([1, 2, 3]);
const MIN_RSA_BITS = 2048;

function reason(code: Reason['code'], message: string): Reason {
  return { code, message };
}

/** The digest the signature covers, used only to repair the quick-check field. */
function signedDigest(sig: ParsedSignaturePacket, payload: Uint8Array): Uint8Array | undefined {
  const name = NODE_HASH[sig.hashAlgorithm];
  if (!name) return undefined;
  try {
    const hash = createHash(name);
    if (sig.salt) hash.update(sig.salt);
    hash.update(payload);
    hash.update(sig.hashedPrefix);
    const trailer = Buffer.alloc(6);
    trailer[0] = sig.version;
    trailer[1] = 0xff;
    trailer.writeUInt32BE(sig.hashedPrefix.length, 2);
    hash.update(trailer);
    return hash.digest();
  } catch {
    return undefined;
  }
}

function describeKey(entry: KeyringEntry): string {
  return entry.isSubkey ? `subkey ${entry.fingerprint} of ${entry.primaryFingerprint}` : `key ${entry.fingerprint}`;
}

function weakFacts(sig: ParsedSignaturePacket, entry: KeyringEntry): { weakHash?: WeakFact; weakAlgorithm?: WeakFact } {
  const out: { weakHash?: WeakFact; weakAlgorithm?: WeakFact } = {};
  if (WEAK_HASHES.has(sig.hashAlgorithm)) out.weakHash = { name: HASH_ALGORITHMS[sig.hashAlgorithm] as string, waivable: sig.hashAlgorithm === SHA1 };
  const algorithm = entry.keyPacket.algorithm as number;
  if (DSA_LIKE.has(algorithm)) {
    out.weakAlgorithm = { name: PUBLIC_KEY_ALGORITHMS[algorithm] ?? String(algorithm), waivable: true };
  } else {
    const rsaBits = [entry.keyPacket, entry.key.keyPacket].filter((p) => RSA.has(p.algorithm as number)).map((p) => p.getAlgorithmInfo().bits ?? 0);
    const smallest = Math.min(...rsaBits);
    if (smallest < MIN_RSA_BITS) out.weakAlgorithm = { name: `RSA-${smallest}`, waivable: false };
  }
  return out;
}

/** Key validity at the signature creation time; undefined when valid. */
async function validityAt(entry: KeyringEntry, at: Date): Promise<Reason | undefined> {
  const when = at.toISOString();
  try {
    const signing = await entry.key.getSigningKey(entry.keyPacket.getKeyID(), at, undefined, VERIFY_CONFIG);
    if (signing.getFingerprint().toUpperCase() !== entry.fingerprint) {
      return reason('BAD_SIGNATURE', `${describeKey(entry)} is not a valid signing key at ${when}`);
    }
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/is revoked/i.test(message)) return reason('KEY_REVOKED', `${describeKey(entry)} is revoked`);
    if (entry.key.keyPacket.created > at || entry.keyPacket.created > at) {
      return reason('KEY_NOT_YET_VALID', `${describeKey(entry)} was created after the signature time ${when}`);
    }
    if (/is expired/i.test(message)) return reason('KEY_EXPIRED', `${describeKey(entry)} had expired at the signature time ${when}`);
    if (entry.isSubkey) {
      const subkey = entry.key.subkeys.find((s) => s.getFingerprint().toUpperCase() === entry.fingerprint);
      const bindings = subkey?.bindingSignatures ?? [];
      if (bindings.length > 0 && bindings.every((b) => b.created !== null && b.created > at)) {
        return reason('BINDING_AFTER_SIGNATURE', `${describeKey(entry)}: every binding signature is newer than the signature time ${when}`);
      }
    }
    if (/too weak|is disabled/i.test(message)) return reason('WEAK_ALGORITHM', `${describeKey(entry)}: ${message}`);
    return reason('BAD_SIGNATURE', `${describeKey(entry)} is not valid for signing at ${when}: ${message}`);
  }
}

function evidence(sig: ParsedSignaturePacket, entry: KeyringEntry): SignerEvidence {
  return {
    method: 'openpgp',
    fingerprint: entry.fingerprint,
    primaryFingerprint: entry.primaryFingerprint,
    keyId: entry.keyId,
    userIds: entry.key.getUserIDs(),
    signedAt: sig.created.toISOString(),
    hashAlgorithm: HASH_ALGORITHMS[sig.hashAlgorithm] ?? String(sig.hashAlgorithm),
    publicKeyAlgorithm: PUBLIC_KEY_ALGORITHMS[sig.publicKeyAlgorithm] ?? String(sig.publicKeyAlgorithm),
  };
}

export class OpenPgpVerifier implements MethodVerifier {
  readonly method = 'openpgp' as const;

  constructor(private readonly keyring: Keyring) {}

  async verify({ payload, armor }: MethodInput): Promise<CryptoOutcome> {
    const base: CryptoOutcome = { method: this.method };
    let sig: ParsedSignaturePacket;
    try {
      sig = parseDetachedSignature(armor.data);
    } catch (err) {
      if (err instanceof SignatureError) return { ...base, early: reason(err.code as Reason['code'], err.message) };
      throw err;
    }
    const times = { signedAt: sig.created, ...(sig.expires ? { expiresAt: sig.expires } : {}) };

    const candidates = sig.issuerFingerprint
      ? [this.keyring.findByFingerprint(sig.issuerFingerprint)].filter((e): e is KeyringEntry => e !== undefined)
      : [...this.keyring.findByKeyId(sig.issuerKeyId as string)];
    if (candidates.length === 0) {
      const who = sig.issuerFingerprint ? `fingerprint ${sig.issuerFingerprint}` : `key id ${sig.issuerKeyId}`;
      return { ...base, ...times, early: reason('UNKNOWN_KEY', `no trusted key with ${who}`) };
    }

    let packet: pgp.SignaturePacket;
    try {
      const parsed = await openpgp.readSignature({ binarySignature: armor.data, config: VERIFY_CONFIG });
      if (parsed.packets.length !== 1) throw new Error('not exactly one signature packet');
      packet = parsed.packets[0] as pgp.SignaturePacket;
    } catch (err) {
      return { ...base, ...times, early: reason('MALFORMED_SIGNATURE', `signature packet rejected by openpgp.js: ${(err as Error).message}`) };
    }
    const digest = signedDigest(sig, payload);
    if (digest) packet.signedHashValue = digest.subarray(0, 2);

    // setBytes is public in openpgp.js but typed private in its .d.ts.
    const literal = new openpgp.LiteralDataPacket();
    (literal as unknown as { setBytes(bytes: Uint8Array, format: pgp.enums.literal): void }).setBytes(
      new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
      openpgp.enums.literal.binary,
    );

    let matched: KeyringEntry | undefined;
    let failure = '';
    for (const entry of candidates) {
      try {
        // date null: "now" checks are applied per call by verify.ts, validity below at signature time.
        await packet.verify(entry.keyPacket, openpgp.enums.signature.binary, literal, null as unknown as Date, true, VERIFY_CONFIG);
        matched = entry;
        break;
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
    }
    const entry = matched ?? (candidates[0] as KeyringEntry);
    const facts = weakFacts(sig, entry);
    const keyFingerprints = [entry.fingerprint, entry.primaryFingerprint];
    if (!matched) {
      const late = /too weak/i.test(failure)
        ? reason('WEAK_HASH', `${describeKey(entry)}: ${failure}`)
        : reason('BAD_SIGNATURE', `signature by ${describeKey(entry)} does not verify over this object (${failure})`);
      return { ...base, ...times, ...facts, keyFingerprints, late };
    }
    const invalid = await validityAt(entry, sig.created);
    return { ...base, ...times, ...facts, keyFingerprints, signer: evidence(sig, entry), ...(invalid ? { late: invalid } : {}) };
  }
}
