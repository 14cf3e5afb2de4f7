/**
 * Who may sign with gitsign: a trust rule's identities (OIDC issuer exact, subject exact or an
 * anchored regex) and, optionally, the SAN email must be the committer's. Kept apart from the
 * cryptography: it only sees proven evidence (SignerEvidence.gitsign).
 */
import type { GitsignIdentityConfig, GitsignRuleConfig } from '../../config/trust.js';
import type { GitsignEvidence } from '../types.js';

export interface IdentityDenial {
  code: 'IDENTITY_NOT_ALLOWED' | 'COMMITTER_MISMATCH';
  message: string;
}

const compiled = new Map<string, RegExp>();

/** The subject pattern anchored at both ends (`^(?:…)$`), compiled once. */
export function anchoredRegex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

export function identityMatches(identity: GitsignIdentityConfig, evidence: Pick<GitsignEvidence, 'issuer' | 'subject'>): boolean {
  if (identity.issuer !== evidence.issuer) return false;
  if (identity.subject !== undefined) return identity.subject === evidence.subject;
  return identity.subjectRegex !== undefined && anchoredRegex(identity.subjectRegex).test(evidence.subject);
}

/** undefined when the rule allows this signer. */
export function authorizeGitsign(rule: GitsignRuleConfig, evidence: GitsignEvidence, where: string): IdentityDenial | undefined {
  if (!rule.identities.some((identity) => identityMatches(identity, evidence))) {
    return { code: 'IDENTITY_NOT_ALLOWED', message: `gitsign identity ${evidence.subject} (issuer ${evidence.issuer}) is not allowed to sign ${where}` };
  }
  if (rule.requireCommitterMatch && !evidence.committerEmailMatch) {
    return { code: 'COMMITTER_MISMATCH', message: `the certificate identity ${evidence.subject} is not the committer's email address` };
  }
  return undefined;
}
