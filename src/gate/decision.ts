import type { ErrorLocation } from '../errors.js';
import type { Secret } from '../secrets/index.js';
import type { PolicyEvidence } from './policy-stage.js';
import type { SecretEvidence } from './secrets-stage.js';
import type { SignatureMethod, SignerEvidence } from '../signatures/types.js';

export interface Reason {
  code: string;
  message: string;
  location?: ErrorLocation;
}

/** What one signature check found (commit or tag). */
export interface VerificationSummary {
  object: 'commit' | 'tag';
  oid: string;
  verified: boolean;
  method: SignatureMethod | null;
  signer: SignerEvidence | null;
  reason: { code: string; message: string } | null;
}

export type Outcome = 'allow' | 'deny' | 'bad_request';

export interface Decision {
  decisionId: string;
  allowed: boolean;
  outcome: Outcome;
  reasons: Reason[];
  revision: string | null;
  repository: string | null;
  application: Record<string, unknown> | null;
  /** The signer of the object whose signature decided (the tag in Tag mode, else the commit). */
  signer: SignerEvidence | null;
  verifications: VerificationSummary[];
  manifests: { count: number } | null;
  /** What the policy stage found (null when the decision ended before it). */
  policy: PolicyEvidence | null;
  /** Secrets unsealed and delivered (names and data keys only), and leftovers pruned. */
  secrets: { delivered: SecretEvidence[]; pruned: Array<{ namespace: string; name: string }> } | null;
  /** Inline delivery only (sealing.delivery: inline): the unsealed Secrets. Never recorded or logged. */
  inlineSecrets?: Secret[];
  /** Where the record of this decision sits in the audit log. */
  audit: { seq: number; hash: string } | null;
  /** Milliseconds spent per stage. */
  timings: Record<string, number>;
}
