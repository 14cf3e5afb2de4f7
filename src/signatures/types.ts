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
  // gitsign (CMS + Sigstore), in check order; see src/signatures/gitsign/
  'TRUSTED_ROOT_MISSING',
  'TRUSTED_ROOT_INVALID',
  'TRUSTED_ROOT_NO_REKOR_KEYS',
  'TRUSTED_ROOT_NO_CT_KEYS',
  'CMS_MALFORMED',
  'CMS_UNSUPPORTED_ALGORITHM',
  'CMS_MULTIPLE_SIGNERS',
  'CMS_SIGNER_CERT_MISSING',
  'CMS_EXTRA_CERT_UNCHAINED',
  'CMS_DIGEST_MISMATCH',
  'REKOR_ENTRY_MALFORMED',
  'REKOR_ENTRY_MISSING',
  'REKOR_LOOKUP_FAILED',
  'REKOR_ENTRY_MISMATCH',
  'REKOR_LOG_UNKNOWN',
  'REKOR_SET_INVALID',
  'REKOR_CHECKPOINT_INVALID',
  'REKOR_INCLUSION_PROOF_INVALID',
  'TIMESTAMP_INVALID',
  'CERT_NOT_VALID_AT_REKOR_TIME',
  'CERT_CHAIN_INVALID',
  'SCT_INVALID',
  'IDENTITY_NOT_ALLOWED',
  'COMMITTER_MISMATCH',
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
  /** SSH: what the SSHSIG signature, its key and allowed_signers entry prove (fingerprint = "SHA256:..."). */
  ssh?: SshEvidence;
  /** gitsign: the Fulcio identity and the Rekor evidence (fingerprint = SHA-256 of the leaf certificate). */
  gitsign?: GitsignEvidence;
}

/** What a verified gitsign signature proves (src/signatures/gitsign/). */
export interface GitsignEvidence {
  /** OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, else 1.1). */
  issuer: string;
  /** The certificate's SAN: an email address or a URI. */
  subject: string;
  subjectType: 'email' | 'uri';
  /** Rekor global log index (decimal string) and the SET-verified integrated time (ISO 8601). */
  rekorLogIndex: string;
  integratedTime: string;
  rekorLogId: string;
  /** Where the Rekor entry came from: embedded in the signature (offline mode) or looked up. */
  rekorSource: 'embedded' | 'lookup';
  /** SHA-256 of the leaf certificate DER, lower-case hex. */
  certificateFingerprint: string;
  certificateSerial: string;
  /** SHA-256 of the trusted_root.json the signature was verified against. */
  trustedRootDigest: string;
  /** The signer's own (untrusted) CMS signingTime. */
  cmsSigningTime: string;
  /** Whether the SAN email equals the committer's (tagger's) email, byte for byte after lower-casing. */
  committerEmailMatch: boolean;
}

/** What a verified SSH signature proves (src/signatures/ssh/). */
export interface SshEvidence {
  /** Key type as in the signature: "ssh-ed25519", "sk-ssh-ed25519@openssh.com", "ssh-ed25519-cert-v01@openssh.com"... */
  keyType: string;
  /** Signature type, e.g. "rsa-sha2-512" for an ssh-rsa key. */
  signatureType: string;
  namespace: string;
  /** SSHSIG hash algorithm: "sha256" or "sha512". */
  hashAlgorithm: string;
  /** The principal the allowed_signers entry admitted (by default the committer's or tagger's e-mail). */
  principal?: string;
  /** Which allowed_signers entry admitted the key ("file:line"). */
  allowedBy?: string;
  /** FIDO (sk-*) keys: the authenticator flags byte (0x01 user presence, 0x04 user verification), counter and application. */
  flags?: number;
  counter?: number;
  application?: string;
  /** OpenSSH certificates: the certificate's identity and the CA that signed it. */
  certificate?: {
    keyId: string;
    serial: string;
    principals: string[];
    caFingerprint: string;
    caKeyType: string;
    validAfter: string;
    /** null: valid forever. */
    validBefore: string | null;
  };
}
