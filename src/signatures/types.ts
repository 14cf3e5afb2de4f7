/** Shapes shared by every signature verifier (OpenPGP now; SSH and gitsign later). */

export type SignatureMethod = 'openpgp' | 'ssh' | 'gitsign';

/** Stable reason codes, in the check order of ../shared/corpus/signatures/expected-strict.json. */
export const SIGNATURE_REASON_CODES = [
  'MALFORMED_OBJECT',
  'UNSIGNED',
  'MULTIPLE_SIGNATURES',
  'MISPLACED_SIGNATURE_HEADER',
  'MALFORMED_SIGNATURE',
  'LEGACY_SIGNATURE',
  'UNKNOWN_KEY',
  'NAMESPACE_NOT_ALLOWED',
  'WEAK_HASH',
  'WEAK_ALGORITHM',
  'BAD_SIGNATURE',
  'KEY_REVOKED',
  'PRINCIPAL_MISMATCH',
  'KEY_EXPIRED',
  'KEY_NOT_YET_VALID',
  'BINDING_AFTER_SIGNATURE',
  // trust policy, after the cryptography
  'KEY_NOT_ALLOWED',
  'NO_TRUST_RULE',
  'INVALID_REPOSITORY',
  'UNSUPPORTED_SIGNATURE',
  // anything unexpected during verification (fail closed)
  'VERIFICATION_ERROR',
] as const;
export type SignatureReasonCode = (typeof SIGNATURE_REASON_CODES)[number];

/** Who signed, as proven by a verifier. */
export interface SignerEvidence {
  method: SignatureMethod;
  /** Fingerprint of the key that made the signature (OpenPGP: the signing key or subkey, upper-case hex). */
  fingerprint: string;
  /** OpenPGP: fingerprint of the primary key the signing key belongs to. */
  primaryFingerprint?: string;
  /** OpenPGP: 16-hex key id of the signing key. */
  keyId?: string;
  userIds?: string[];
  /** Signature creation time (ISO 8601, UTC) when the signature carries one. */
  signedAt?: string;
  /** Signature hash algorithm, e.g. "SHA256". */
  hashAlgorithm?: string;
  /** Public key algorithm, e.g. "rsaEncryptSign", "eddsaLegacy". */
  publicKeyAlgorithm?: string;
}
