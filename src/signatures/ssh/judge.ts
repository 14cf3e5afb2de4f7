/**
 * The per-call half of SSH verification (run by verify.ts through CryptoOutcome.finish): which
 * allowed_signers entry admits the proven key for this object, under the repository's rule.
 *   1. principal: by default the committer's (tagger's) e-mail must match the entry's principals
 *      (and, for a certificate, be one of the certificate's principals) → PRINCIPAL_MISMATCH;
 *   2. validity: the entry's valid-after/valid-before and the certificate's validity, judged at
 *      "now", at the committer time (git's behaviour), or both → KEY_EXPIRED / KEY_NOT_YET_VALID.
 * The first entry that passes both decides; its principal goes into the evidence.
 */
import type { SshRuleConfig } from '../../config/trust.js';
import type { GitIdentity } from '../../git/object.js';
import type { FinishContext, FinishResult, Reason } from '../method.js';
import type { SignerEvidence } from '../types.js';
import type { AllowedSigner } from './allowed-signers.js';
import { FOREVER, type SshCertificate } from './certificate.js';
import { matchPatternList } from './patterns.js';

export const DEFAULT_SSH_RULE: SshRuleConfig = { principals: [], anyAllowedSigner: false, requireCommitterMatch: true, windowAt: 'now' };

export interface JudgeInput {
  entries: readonly AllowedSigner[];
  certificate?: SshCertificate;
  /** Committer (commit) or tagger (tag); absent for a tag without tagger. */
  identity?: GitIdentity;
  signer: SignerEvidence;
}

const where = (e: AllowedSigner): string => `${e.source}:${e.line}`;
const iso = (seconds: number | bigint): string => new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');

/** The first literal (non-negated) principal of a pattern list, used when no e-mail binding is required. */
function firstPrincipal(list: string): string | undefined {
  return list.split(',').find((p) => p.length > 0 && !p.startsWith('!'));
}

function principalFor(entry: AllowedSigner, cert: SshCertificate | undefined, email: string | undefined, requireCommitter: boolean): string | undefined {
  const admits = (name: string): boolean => matchPatternList(name, entry.principals) === 1;
  if (cert) {
    // sshsig.c: the entry's patterns must match, and the name must be a listed certificate principal.
    const usable = cert.principals.filter(admits);
    if (email !== undefined && usable.includes(email)) return email;
    return requireCommitter ? undefined : usable[0];
  }
  if (email !== undefined && admits(email)) return email;
  return requireCommitter ? undefined : firstPrincipal(entry.principals);
}

type WindowProblem = { code: 'KEY_EXPIRED' | 'KEY_NOT_YET_VALID'; message: string };

function windowProblem(entry: AllowedSigner, cert: SshCertificate | undefined, at: number, label: string): WindowProblem | undefined {
  // Same comparisons as ssh-keygen: entry valid while valid-after <= t <= valid-before; certificate while valid_after <= t < valid_before.
  if (entry.validAfter !== undefined && at < entry.validAfter) {
    return { code: 'KEY_NOT_YET_VALID', message: `${where(entry)}: key is not valid until ${iso(entry.validAfter)} (valid-after), judged at ${label} ${iso(at)}` };
  }
  if (entry.validBefore !== undefined && at > entry.validBefore) {
    return { code: 'KEY_EXPIRED', message: `${where(entry)}: key was valid only until ${iso(entry.validBefore)} (valid-before), judged at ${label} ${iso(at)}` };
  }
  if (cert) {
    if (BigInt(at) < cert.validAfter) return { code: 'KEY_NOT_YET_VALID', message: `certificate "${cert.keyId}" is not valid until ${iso(cert.validAfter)}, judged at ${label} ${iso(at)}` };
    if (cert.validBefore !== FOREVER && BigInt(at) >= cert.validBefore) {
      return { code: 'KEY_EXPIRED', message: `certificate "${cert.keyId}" expired at ${iso(cert.validBefore)}, judged at ${label} ${iso(at)}` };
    }
  }
  return undefined;
}

export function judgeSshSigner(input: JudgeInput, context: FinishContext): FinishResult {
  const rule = context.rule?.ssh ?? DEFAULT_SSH_RULE;
  const email = input.identity?.email;
  const who = email !== undefined ? `<${email}>` : '(the tag has no tagger)';
  const admitted = input.entries
    .map((entry) => ({ entry, principal: principalFor(entry, input.certificate, email, rule.requireCommitterMatch) }))
    .filter((c): c is { entry: AllowedSigner; principal: string } => c.principal !== undefined);
  if (admitted.length === 0) {
    const listed = input.entries.map((e) => `"${e.principals}" (${where(e)})`).join(', ');
    const cert = input.certificate ? ` with certificate principals [${input.certificate.principals.join(', ')}]` : '';
    const reason: Reason = { code: 'PRINCIPAL_MISMATCH', message: `key ${input.signer.fingerprint}${cert} is allowed for ${listed}, not for the committer e-mail ${who}` };
    return { reason };
  }

  const times: Array<{ at: number; label: string }> = [];
  if (rule.windowAt !== 'committer') times.push({ at: Math.floor(context.now.getTime() / 1000), label: 'now' });
  if (rule.windowAt !== 'now') {
    if (!input.identity) return { reason: { code: 'VERIFICATION_ERROR', message: 'the validity window is judged at the committer time, but the tag has no tagger' } };
    times.push({ at: input.identity.timestamp, label: 'the committer time' });
  }
  const problems: WindowProblem[] = [];
  for (const { entry, principal } of admitted) {
    const problem = times.map((t) => windowProblem(entry, input.certificate, t.at, t.label)).find((p) => p !== undefined);
    if (problem) {
      problems.push(problem);
      continue;
    }
    const ssh = { ...(input.signer.ssh as NonNullable<SignerEvidence['ssh']>), principal, allowedBy: where(entry) };
    return { signer: { ...input.signer, ssh } };
  }
  const first = problems.find((p) => p.code === 'KEY_EXPIRED') ?? (problems[0] as WindowProblem);
  return { reason: { code: first.code, message: problems.length > 1 ? `${first.message} (and ${problems.length - 1} other entr${problems.length > 2 ? 'ies' : 'y'} outside their window)` : first.message } };
}
