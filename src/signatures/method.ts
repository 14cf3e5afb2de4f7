/**
 * The interface every signature method (OpenPGP now; SSH and gitsign later) implements. A method
 * verifier does the cryptography only; the algorithm policy, time checks against "now" and the
 * trust policy are applied by verify.ts, so one cached outcome can serve every repository.
 */
import type { TrustRuleConfig } from '../config/trust.js';
import type { ParsedObject } from '../git/object.js';
import type { ArmorBlock } from './armor.js';
import type { SignatureMethod, SignatureReasonCode, SignerEvidence } from './types.js';

export interface Reason {
  code: SignatureReasonCode;
  message: string;
}

/** A weak hash or key algorithm; `waivable` when a per-key trust rule may allow it. */
export interface WeakFact {
  name: string;
  waivable: boolean;
}

export interface CryptoOutcome {
  method: SignatureMethod;
  /** A failure decided before the algorithm policy (framing, legacy packet, unknown key). */
  early?: Reason;
  /** A failure that may pass (e.g. a Rekor lookup that timed out): never cached. */
  transient?: boolean;
  /** Algorithm facts the policy judges (WEAK_HASH, WEAK_ALGORITHM) before `late`. */
  weakHash?: WeakFact;
  weakAlgorithm?: WeakFact;
  /** A failure after the algorithm policy (bad maths, revoked, validity at signature time). */
  late?: Reason;
  /** Set when the maths verified (the key is proven). */
  signer?: SignerEvidence;
  /** Fingerprints a per-key allowance may name (signing key and primary key). */
  keyFingerprints?: string[];
  /** Signature creation and expiry times, re-checked against "now" on every call. */
  signedAt?: Date;
  expiresAt?: Date;
  /**
   * Method-specific checks that depend on the repository's trust rule or on "now" (SSH: the
   * principal and the allowed_signers validity windows). verify.ts runs it on every call, after the
   * algorithm policy and `late`, before the generic time checks; it may complete the signer.
   */
  finish?(context: FinishContext): FinishResult;
}

/** What `CryptoOutcome.finish` sees: the matched trust rule (none when no rule matched) and "now". */
export interface FinishContext {
  rule?: TrustRuleConfig;
  now: Date;
}

export interface FinishResult {
  reason?: Reason;
  /** The signer evidence completed by the per-call checks (e.g. the SSH principal). */
  signer?: SignerEvidence;
}

export interface MethodInput {
  payload: Buffer;
  armor: ArmorBlock;
  object: ParsedObject;
}

export interface MethodVerifier {
  readonly method: SignatureMethod;
  verify(input: MethodInput): Promise<CryptoOutcome>;
  /** Called when the method's trust material changes (e.g. a reloaded trusted root): cached outcomes are stale. */
  onChange?(listener: () => void): void;
}
