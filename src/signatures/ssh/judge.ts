/**
 * The per-call half of SSH verification (run by verify.ts through CryptoOutcome.finish): which
 * allowed_signers entry admits the proven key for this object, under the repository's rule.
 *   1. principal: by default the committer's (tagger's) e-mail must match the entry's principals
 *      (and, for a certificate, be one of the certificate's principals) → PRINCIPAL_MISMATCH;
 *   2. validity: the entry's valid-after/valid-before and the certificate's validity, judged at
 *      "now", at the committer time (git's behaviour), or both → KEY_EXPIRED / KEY_NOT_YET_VALID.
 * The first entry that passes both decides; its principal goes into the evidence. Step 1 depends
 * only on the object, the trust store and requireCommitterMatch, so SshJudge works it out once per
 * cached outcome; step 2 and the rule's settings are applied on every call.
 */
import type { SshRuleConfig } from '../../config/trust.js';
import type { GitIdentity } from '../../git/object.js';
import type { FinishContext, FinishResult } from '../method.js';
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

/** An entry that admits the signer under one requireCommitterMatch setting, with what a pass returns. */
interface Candidate {
  entry: AllowedSigner;
  /** Validity bounds in seconds, for an integer time t: inside when after <= t <= before and t < certBefore. */
  after: number;
  before: number;
  certBefore: number;
  /** The completed evidence (principal, allowedBy), built once. */
  pass: FinishResult;
}

type Admission = { candidates: readonly Candidate[] } | { mismatch: FinishResult };

const NO_TAGGER: FinishResult = { reason: { code: 'VERIFICATION_ERROR', message: 'the validity window is judged at the committer time, but the tag has no tagger' } };

/**
 * The per-call judgement for one cached outcome. Everything that depends only on the object and the
 * trust store (which entries admit which principal for the committer, under requireCommitterMatch
 * true or false, and the evidence each would report) is worked out once, on first use; the rule's
 * settings and the validity windows against "now" are applied on every call.
 */
export class SshJudge {
  private strict: Admission | undefined;
  private loose: Admission | undefined;

  constructor(private readonly input: JudgeInput) {}

  private admit(requireCommitter: boolean): Admission {
    const { entries, certificate: cert, identity, signer } = this.input;
    const email = identity?.email;
    const certAfter = cert ? Number(cert.validAfter) : -Infinity;
    // Exact for any safe-integer time: a bound above 2^53 stays above it after rounding.
    const certBefore = cert && cert.validBefore !== FOREVER ? Number(cert.validBefore) : Infinity;
    const candidates: Candidate[] = [];
    for (const entry of entries) {
      const principal = principalFor(entry, cert, email, requireCommitter);
      if (principal === undefined) continue;
      const ssh = { ...(signer.ssh as NonNullable<SignerEvidence['ssh']>), principal, allowedBy: where(entry) };
      candidates.push({
        entry,
        after: Math.max(entry.validAfter ?? -Infinity, certAfter),
        before: entry.validBefore ?? Infinity,
        certBefore,
        pass: { signer: { ...signer, ssh } },
      });
    }
    if (candidates.length > 0) return { candidates };
    const who = email !== undefined ? `<${email}>` : '(the tag has no tagger)';
    const listed = entries.map((e) => `"${e.principals}" (${where(e)})`).join(', ');
    const certText = cert ? ` with certificate principals [${cert.principals.join(', ')}]` : '';
    return { mismatch: { reason: { code: 'PRINCIPAL_MISMATCH', message: `key ${signer.fingerprint}${certText} is allowed for ${listed}, not for the committer e-mail ${who}` } } };
  }

  judge(context: FinishContext): FinishResult {
    const rule = context.rule?.ssh ?? DEFAULT_SSH_RULE;
    const admission = rule.requireCommitterMatch ? (this.strict ??= this.admit(true)) : (this.loose ??= this.admit(false));
    if ('mismatch' in admission) return admission.mismatch;
    const atNow = rule.windowAt !== 'committer';
    const atCommitter = rule.windowAt !== 'now';
    const identity = this.input.identity;
    if (atCommitter && !identity) return NO_TAGGER;
    const now = Math.floor(context.now.getTime() / 1000);
    const committed = identity ? identity.timestamp : 0;
    for (const c of admission.candidates) {
      if (atNow && !(now >= c.after && now <= c.before && now < c.certBefore)) continue;
      if (atCommitter && !(committed >= c.after && committed <= c.before && committed < c.certBefore)) continue;
      return c.pass;
    }
    return this.outsideWindows(admission.candidates, atNow ? now : undefined, atCommitter ? committed : undefined);
  }

  /** Every admitting entry is outside its window: the reason, preferring KEY_EXPIRED. */
  private outsideWindows(candidates: readonly Candidate[], now: number | undefined, committed: number | undefined): FinishResult {
    const problems: WindowProblem[] = [];
    for (const { entry } of candidates) {
      const problem =
        (now !== undefined ? windowProblem(entry, this.input.certificate, now, 'now') : undefined) ??
        (committed !== undefined ? windowProblem(entry, this.input.certificate, committed, 'the committer time') : undefined);
      if (problem) problems.push(problem);
    }
    const first = problems.find((p) => p.code === 'KEY_EXPIRED') ?? problems[0];
    if (!first) return { reason: { code: 'VERIFICATION_ERROR', message: 'SSH validity windows: no entry passed, but none reported a problem' } };
    return { reason: { code: first.code, message: problems.length > 1 ? `${first.message} (and ${problems.length - 1} other entr${problems.length > 2 ? 'ies' : 'y'} outside their window)` : first.message } };
  }
}

