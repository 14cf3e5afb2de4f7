import { z } from 'zod';

const fingerprint = z
  .string()
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .pipe(z.string().regex(/^([0-9A-F]{40}|[0-9A-F]{64})$/, 'must be a full OpenPGP fingerprint (40 or 64 hex digits); short key ids are not accepted'));

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
  })
  .strict();

export const trustSchema = z
  .object({
    /** OpenPGP key files (every armor block of each is read). */
    keyrings: z.array(z.string().min(1)).default([]),
    rules: z.array(trustRuleSchema).default([]),
  })
  .strict();

export type TrustRuleConfig = z.infer<typeof trustRuleSchema>;
export type TrustConfig = z.infer<typeof trustSchema>;
