/**
 * The one entry point for signature verification of a raw git commit or tag. Checks run in the
 * order of expected-strict.json's defaultPolicy; the first failure is the reason:
 *   parse object → cut payload/signature → armor → method verifier (packets, key, maths, validity)
 *   → algorithm policy (per trust rule) → times against "now" → trust policy (KEY_NOT_ALLOWED).
 * The cryptographic outcome is cached per object id and kind (objects are immutable); the policy
 * parts are applied on every call because the repository and "now" differ.
 * Never throws: anything unexpected is a not-verified VERIFICATION_ERROR (fail closed).
 */
import type { TrustConfig } from '../config/trust.js';
import { SyncgateError } from '../errors.js';
import type { ObjectFormat } from '../git/object-id.js';
import { computeObjectId, formatForHexLength } from '../git/object-id.js';
import type { ParsedObject, SignedParts } from '../git/object.js';
import { extractSignature, parseGitObject } from '../git/object.js';
import type { ArmorBlock } from './armor.js';
import { ARMOR_METHODS, parseArmor } from './armor.js';
import type { Keyring } from './keyring.js';
import type { CryptoOutcome, MethodVerifier, Reason } from './method.js';
import { OpenPgpVerifier } from './openpgp.js';
import { TrustPolicy, isRuleMatch } from './trust-policy.js';
import type { SignatureMethod, SignatureReasonCode, SignerEvidence } from './types.js';

export interface VerifyObjectRequest {
  /** Exact bytes of `git cat-file commit|tag`. */
  raw: Buffer;
  kind: 'commit' | 'tag';
  /** Repository URL or normalised name; selects the trust rule. */
  repository?: string;
  /** Evaluation time (signature expiry, signatures from the future). Defaults to the clock. */
  now?: Date;
}

export interface VerificationResult {
  verified: boolean;
  /** Object id in the object's own format (from its tree/object header; sha1 when unparseable). */
  oid: string;
  objectFormat: ObjectFormat;
  method: SignatureMethod | null;
  /** Present whenever the signature maths verified, even if a later check failed. */
  signer?: SignerEvidence;
  reason?: { code: SignatureReasonCode; message: string };
}

export interface SignatureVerifierOptions {
  keyring: Keyring;
  trust: TrustConfig | TrustPolicy;
  /** Bounded LRU of cryptographic outcomes (default 10,000). 0 disables caching. */
  cacheSize?: number;
  /** Extra method verifiers (SSH, gitsign) slot in here; OpenPGP is always present. */
  methods?: MethodVerifier[];
}

/** Signatures dated this far in the future are still accepted (signer clock skew). */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

interface Check {
  method: SignatureMethod | null;
  early?: Reason;
  outcome?: CryptoOutcome;
}

const HEX_DIGIT = new Uint8Array(256);
for (const c of '0123456789abcdef') HEX_DIGIT[c.charCodeAt(0)] = 1;
const FIRST_LINE = { commit: Buffer.from('tree '), tag: Buffer.from('object ') } as const;
const ID_LINE = { commit: /^tree ([0-9a-f]+)$/m, tag: /^object ([0-9a-f]+)$/m } as const;

function inferFormat(raw: Buffer, kind: 'commit' | 'tag'): ObjectFormat {
  // Fast path, same answer as the search below: the object starts with its id line (git writes it
  // first), so that line is the first match; the id runs to the end of the line.
  const prefix = FIRST_LINE[kind];
  const limit = Math.min(raw.length, 4096);
  let i = 0;
  while (i < prefix.length && i < limit && raw[i] === prefix[i]) i++;
  if (i === prefix.length) {
    while (i < limit && HEX_DIGIT[raw[i] as number] === 1) i++;
    if (i > prefix.length && i < limit && (raw[i] === 0x0a || raw[i] === 0x0d)) return formatForHexLength(i - prefix.length) ?? 'sha1';
  }
  const end = raw.indexOf('\n\n');
  const head = raw.subarray(0, end < 0 ? limit : end).toString('latin1');
  const m = ID_LINE[kind].exec(head);
  return (m && formatForHexLength((m[1] as string).length)) || 'sha1';
}

function fromError(err: unknown, fallback: SignatureReasonCode): Reason {
  if (err instanceof SyncgateError) return { code: err.code as SignatureReasonCode, message: err.message };
  return { code: fallback, message: err instanceof Error ? err.message : String(err) };
}

function guessMethod(signature: string): SignatureMethod | null {
  for (const [label, method] of Object.entries(ARMOR_METHODS)) if (signature.includes(`-----BEGIN ${label}-----`)) return method;
  return null;
}

export class SignatureVerifier {
  private readonly policy: TrustPolicy;
  private readonly methods = new Map<SignatureMethod, MethodVerifier>();
  private readonly cache = new Map<string, Check>();
  private readonly inflight = new Map<string, Promise<Check>>();
  /** Bumped by clearCache: a check that started before is neither cached nor joined after it. */
  private generation = 0;
  private readonly cacheLimit: number;

  constructor(options: SignatureVerifierOptions) {
    this.policy = options.trust instanceof TrustPolicy ? options.trust : TrustPolicy.fromConfig(options.trust);
    this.cacheLimit = options.cacheSize ?? 10_000;
    for (const m of [new OpenPgpVerifier(options.keyring), ...(options.methods ?? [])] as MethodVerifier[]) {
      this.methods.set(m.method, m);
      m.onChange?.(() => this.clearCache());
    }
  }

  get cachedObjects(): number {
    return this.cache.size;
  }

  clearCache(): void {
    this.cache.clear();
    this.inflight.clear();
    this.generation++;
  }

  async verifyObject(request: VerifyObjectRequest): Promise<VerificationResult> {
    let oid = '';
    let objectFormat: ObjectFormat = 'sha1';
    try {
      const { raw, kind } = request;
      if (!Buffer.isBuffer(raw)) throw new SyncgateError('VERIFICATION_ERROR', 'raw object must be a Buffer');
      if (kind !== 'commit' && kind !== 'tag') throw new SyncgateError('VERIFICATION_ERROR', `cannot verify objects of kind ${String(kind)}`);
      objectFormat = inferFormat(raw, kind);
      oid = computeObjectId(kind, raw, objectFormat);
      const key = `${kind}:${oid}`;
      const hit = this.cache.get(key);
      if (hit) {
        // Most recently used last (the LRU order); no await on a hit.
        this.cache.delete(key);
        this.cache.set(key, hit);
        return this.decide(hit, request, oid, objectFormat);
      }
      return this.decide(await this.cryptoCheck(key, raw, kind), request, oid, objectFormat);
    } catch (err) {
      return { verified: false, oid, objectFormat, method: null, reason: fromError(err, 'VERIFICATION_ERROR') };
    }
  }

  private async cryptoCheck(key: string, raw: Buffer, kind: 'commit' | 'tag'): Promise<Check> {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const run: Promise<Check> = this.runCheck(raw, kind)
      .then((check) => {
        if (this.cacheLimit > 0 && !check.outcome?.transient && generation === this.generation) {
          this.cache.set(key, check);
          if (this.cache.size > this.cacheLimit) this.cache.delete(this.cache.keys().next().value as string);
        }
        return check;
      })
      .finally(() => {
        if (this.inflight.get(key) === run) this.inflight.delete(key);
      });
    this.inflight.set(key, run);
    return run;
  }

  private async runCheck(raw: Buffer, kind: 'commit' | 'tag'): Promise<Check> {
    let object: ParsedObject;
    try {
      object = parseGitObject(raw, kind);
    } catch (err) {
      return { method: null, early: fromError(err, 'MALFORMED_OBJECT') };
    }
    let parts: SignedParts;
    try {
      parts = extractSignature(object);
    } catch (err) {
      return { method: null, early: fromError(err, 'MALFORMED_SIGNATURE') };
    }
    let armor: ArmorBlock;
    try {
      armor = parseArmor(parts.signature, { allowTrailingEmptyLine: parts.location === 'header' });
    } catch (err) {
      return { method: guessMethod(parts.signature), early: fromError(err, 'MALFORMED_SIGNATURE') };
    }
    const verifier = this.methods.get(armor.method);
    if (!verifier) {
      return { method: armor.method, early: { code: 'UNSUPPORTED_SIGNATURE', message: `${armor.method} signatures (${armor.label}) are not supported yet` } };
    }
    const outcome = await verifier.verify({ payload: parts.payload, armor, object });
    return { method: armor.method, outcome };
  }

  private decide(check: Check, request: VerifyObjectRequest, oid: string, objectFormat: ObjectFormat): VerificationResult {
    const method = check.method;
    const deny = (reason: Reason, signer?: SignerEvidence): VerificationResult => ({ oid, objectFormat, method, verified: false, ...(signer ? { signer } : {}), reason });
    if (check.early) return deny(check.early);
    const outcome = check.outcome;
    if (!outcome) return deny({ code: 'VERIFICATION_ERROR', message: 'no verification outcome' });
    if (outcome.early) return deny(outcome.early);

    let signer = outcome.signer;
    const match = this.policy.match(request.repository);
    if (outcome.weakHash || outcome.weakAlgorithm) {
      const fingerprints = outcome.keyFingerprints ?? [];
      const who = fingerprints[0] ? ` by key ${fingerprints[0]}` : '';
      if (outcome.weakHash && !(outcome.weakHash.waivable && isRuleMatch(match) && this.policy.allowsWeak(match, 'sha1', fingerprints))) {
        return deny({ code: 'WEAK_HASH', message: `${outcome.weakHash.name} data signature${who} is refused${outcome.weakHash.waivable ? ' (a trust rule may allow it for this key: allowSha1)' : ''}` }, signer);
      }
      if (outcome.weakAlgorithm && !(outcome.weakAlgorithm.waivable && isRuleMatch(match) && this.policy.allowsWeak(match, 'dsa', fingerprints))) {
        return deny({ code: 'WEAK_ALGORITHM', message: `${outcome.weakAlgorithm.name} signing key${who} is refused${outcome.weakAlgorithm.waivable ? ' (a trust rule may allow it for this key: allowDsa)' : ''}` }, signer);
      }
    }
    if (outcome.late) return deny(outcome.late, signer);
    if (!signer) return deny({ code: 'VERIFICATION_ERROR', message: 'verifier reported no signer' });

    const now = request.now ?? new Date();
    const nowMs = now.getTime();
    if (Number.isNaN(nowMs)) return deny({ code: 'VERIFICATION_ERROR', message: 'invalid evaluation time' }, signer);
    if (outcome.finish) {
      // Method checks that depend on the rule and on now (SSH: principal, validity windows).
      const finished = outcome.finish(isRuleMatch(match) ? { rule: match.rule, now } : { now });
      if (finished.signer) signer = finished.signer;
      if (finished.reason) return deny(finished.reason, signer);
    }
    if (outcome.signedAt && outcome.signedAt.getTime() > nowMs + CLOCK_SKEW_MS) {
      return deny({ code: 'KEY_NOT_YET_VALID', message: `signature creation time ${outcome.signedAt.toISOString()} is in the future` }, signer);
    }
    if (outcome.expiresAt && outcome.expiresAt.getTime() <= nowMs) {
      return deny({ code: 'KEY_EXPIRED', message: `signature expired at ${outcome.expiresAt.toISOString()}` }, signer);
    }
    if (!isRuleMatch(match)) return deny(match, signer);
    const denial = this.policy.authorize(match, signer);
    if (denial) return deny(denial, signer);
    return { oid, objectFormat, method, verified: true, signer };
  }
}
