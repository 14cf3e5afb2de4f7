import { z } from 'zod';

const fingerprint = z
  .string()
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .pipe(z.string().regex(/^([0-9A-F]{40}|[0-9A-F]{64})$/, 'must be a full OpenPGP fingerprint (40 or 64 hex digits); short key ids are not accepted'));

/**
 * SSH signers of one rule. A key must first be listed in an allowed_signers file (trust.allowedSigners)
 * for a principal; then:
 *  - requireCommitterMatch (default true): that principal must be the committer's (tagger's) e-mail,
 *    which git itself never checks; false admits a key listed for any principal;
 *  - anyAllowedSigner: every such signer may sign the rule's repositories; otherwise the principal
 *    must match `principals` (an OpenSSH pattern list: `*`, `?`, `!negation`);
 *  - windowAt: when valid-after/valid-before (and certificate validity) are judged: "now" (default),
 *    "committer" (git's behaviour: the committer/tagger time the signer wrote), or "both".
 */
export const sshRuleSchema = z
  .object({
    principals: z.array(z.string().min(1)).default([]),
    anyAllowedSigner: z.boolean().default(false),
    requireCommitterMatch: z.boolean().default(true),
    windowAt: z.enum(['now', 'committer', 'both']).default('now'),
  })
  .strict();

function compiles(pattern: string): boolean {
  try {
    new RegExp(`^(?:${pattern})$`, 'u');
    return true;
  } catch {
    return false;
  }
}

/**
 * One allowed Sigstore (gitsign) identity: the OIDC issuer exactly, and the certificate subject
 * (email or URI SAN) exactly (`subject`) or by a regex that is always anchored (`subjectRegex`).
 */
export const gitsignIdentitySchema = z
  .object({
    issuer: z.string().min(1),
    subject: z.string().min(1).optional(),
    subjectRegex: z.string().min(1).refine(compiles, 'must be a valid regular expression').optional(),
  })
  .strict()
  .refine((i) => (i.subject === undefined) !== (i.subjectRegex === undefined), 'give exactly one of subject or subjectRegex');

/** gitsign signers of one rule; requireCommitterMatch: the SAN email must be the committer's (tagger's). */
export const gitsignRuleSchema = z
  .object({
    identities: z.array(gitsignIdentitySchema).default([]),
    requireCommitterMatch: z.boolean().default(false),
  })
  .strict();

/**
 * One trust rule: which keys may sign the repositories matching `repositories` (globs over the
 * normalised repository, e.g. `github.com/acme/*`; `**` matches every repository, including a
 * request that names none). The first matching rule applies.
 */
export const trustRuleSchema = z
  .object({
    repositories: z.array(z.string().min(1)).min(1),
    openpgp: z
      .object({
        /** Fingerprints (primary key or subkey) allowed to sign; `anyTrustedKey` admits every key in the keyrings. */
        fingerprints: z.array(fingerprint).default([]),
        anyTrustedKey: z.boolean().default(false),
        /** Keys (fingerprints) whose SHA-1 data signatures are accepted. */
        allowSha1: z.array(fingerprint).default([]),
        /** Keys (fingerprints) whose DSA / ElGamal signatures are accepted. */
        allowDsa: z.array(fingerprint).default([]),
      })
      .strict()
      .default({ fingerprints: [], anyTrustedKey: false, allowSha1: [], allowDsa: [] }),
    /** SSH signers; a rule without it admits no SSH signature. */
    ssh: sshRuleSchema.optional(),
    /** gitsign (Sigstore keyless) signers; a rule without it admits no gitsign signature. */
    gitsign: gitsignRuleSchema.optional(),
  })
  .strict();

export const trustSchema = z
  .object({
    /** OpenPGP key files (every armor block of each is read). */
    keyrings: z.array(z.string().min(1)).default([]),
    /** git allowed_signers files (gpg.ssh.allowedSignersFile format), read in order. */
    allowedSigners: z.array(z.string().min(1)).optional(),
    /** SSH revoked-keys files (gpg.ssh.revocationFile; plain public keys, one per line). */
    sshRevokedKeys: z.array(z.string().min(1)).optional(),
    /** An invalid allowed_signers line refuses the file ("reject", default) or is skipped as ssh-keygen does ("skip"). */
    allowedSignersInvalidLines: z.enum(['reject', 'skip']).optional(),
    /** Sigstore trusted_root.json (pinned; reloaded when it changes) for gitsign signatures. */
    trustedRoot: z.string().min(1).optional(),
    /** Rekor server queried for default-mode gitsign commits (no embedded entry); none: they are denied. */
    rekorUrl: z.url({ protocol: /^https?$/ }).optional(),
    rules: z.array(trustRuleSchema).default([]),
  })
  .strict();

export type TrustRuleConfig = z.infer<typeof trustRuleSchema>;
export type SshRuleConfig = z.infer<typeof sshRuleSchema>;
export type TrustConfig = z.infer<typeof trustSchema>;
export type GitsignIdentityConfig = z.infer<typeof gitsignIdentitySchema>;
export type GitsignRuleConfig = z.infer<typeof gitsignRuleSchema>;
