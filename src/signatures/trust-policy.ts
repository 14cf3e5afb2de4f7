/**
 * Trust policy: which keys may sign which repository. Kept apart from the cryptography: it only
 * sees proven signer evidence. The first rule whose glob matches the normalised repository applies.
 */
import picomatch from 'picomatch';
import type { TrustConfig, TrustRuleConfig } from '../config/trust.js';
import { trustRuleSchema } from '../config/trust.js';
import { ConfigError, InputError } from '../errors.js';
import { authorizeGitsign } from './gitsign/policy.js';
import { matchPatternList } from './ssh/patterns.js';
import type { SignatureReasonCode, SignerEvidence } from './types.js';

const DEFAULT_PORTS: Record<string, string> = { https: '443', http: '80', ssh: '22', 'git+ssh': '22', 'ssh+git': '22', git: '9418' };

/** The repository as an error message may quote it: a URL's user-info (a token, a password) replaced. */
function quotable(input: string): string {
  return JSON.stringify(input.slice(0, 200).replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1[redacted]@'));
}

function invalid(input: string, why: string): InputError {
  return new InputError('INVALID_REPOSITORY', `repository ${quotable(input)} cannot be normalised: ${why}`);
}

/**
 * `https://github.com/Org/Repo.git`, `git@github.com:org/repo.git`, `ssh://git@host:22/org/repo`
 * and `github.com/org/repo` all become `host/path`: lower-case, no user, no default port, no
 * `.git` suffix. Throws InputError INVALID_REPOSITORY.
 */
export function normalizeRepository(input: string): string {
  const s = input.trim();
  if (s.length === 0 || s.length > 2048 || /[\s\p{Cc}\\]/u.test(s)) throw invalid(input, 'empty, too long or contains whitespace/control characters');
  if (/(^|[/:])\.{1,2}(\/|$)|%2e/i.test(s)) throw invalid(input, '"." or ".." path segment');
  // Lower-casing folds some non-ASCII letters into ASCII ones (the Kelvin sign into "k") and an
  // encoded "/" would become a separator: either could make one repository look like another.
  if (/[^\x20-\x7e]/.test(s)) throw invalid(input, 'non-ASCII characters (use the punycode / percent-encoded form the server uses)');
  if (/%2f|%5c/i.test(s)) throw invalid(input, 'encoded "/" or "\\" in the path');
  let host: string;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (!(scheme in DEFAULT_PORTS)) throw invalid(input, `unsupported scheme ${scheme}`);
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw invalid(input, 'not a valid URL');
    }
    if (url.search || url.hash) throw invalid(input, 'query or fragment not allowed');
    host = url.hostname;
    if (url.port && url.port !== DEFAULT_PORTS[scheme]) host += `:${url.port}`;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw invalid(input, 'bad percent-encoding');
    }
  } else {
    const scp = /^(?:[^@/:]+@)?([^@/:]+):(?!\/\/)(.+)$/.exec(s);
    const bare = /^([^@/:]+\.[^@/:]+)\/(.+)$/.exec(s);
    const m = scp ?? bare;
    if (!m) throw invalid(input, 'expected a URL, user@host:path or host/path');
    host = m[1] as string;
    path = m[2] as string;
  }
  if (!host) throw invalid(input, 'no host');
  path = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '');
  const segments = path.split('/');
  if (segments.some((seg) => seg === '' || seg === '.' || seg === '..')) throw invalid(input, 'empty, "." or ".." path segment');
  return `${host}/${segments.join('/')}`.toLowerCase();
}

export interface RuleMatch {
  index: number;
  rule: TrustRuleConfig;
  /** The normalised repository, or undefined when the request named none. */
  repository: string | undefined;
}

export interface PolicyDenial {
  code: SignatureReasonCode;
  message: string;
}

export type WeakAllowance = 'sha1' | 'dsa';

/** Rule matches remembered per policy: repositories named this many times, each at most MEMO_KEY_MAX characters. */
const MEMO_SIZE = 1024;
const MEMO_KEY_MAX = 512;

export class TrustPolicy {
  private readonly matchers: Array<(repo: string) => boolean>;
  /** match() per repository string: a pure function of the string and these (fixed) rules. */
  private readonly matched = new Map<string, RuleMatch | PolicyDenial>();
  private unnamed: RuleMatch | PolicyDenial | undefined;

  constructor(private readonly rules: readonly TrustRuleConfig[]) {
    this.matchers = rules.map((r) => picomatch(r.repositories.map((g) => g.toLowerCase()), { nocase: true, dot: true }));
  }

  /** Validates the rules again (fingerprints upper-cased, defaults filled); ConfigError when invalid. */
  static fromConfig(config: Pick<TrustConfig, 'rules'>): TrustPolicy {
    const parsed = trustRuleSchema.array().safeParse(config.rules);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError('TRUST_CONFIG_INVALID', `invalid trust rules: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown error'}`);
    }
    return new TrustPolicy(parsed.data);
  }

  /** The first matching rule, or a denial (NO_TRUST_RULE, INVALID_REPOSITORY). Callers must not modify the answer (it is shared). */
  match(repository?: string): RuleMatch | PolicyDenial {
    if (repository === undefined || repository === '') return (this.unnamed ??= this.matchUncached(undefined));
    if (repository.length > MEMO_KEY_MAX) return this.matchUncached(repository);
    let answer = this.matched.get(repository);
    if (answer === undefined) {
      answer = this.matchUncached(repository);
      if (this.matched.size >= MEMO_SIZE) this.matched.delete(this.matched.keys().next().value as string);
      this.matched.set(repository, answer);
    }
    return answer;
  }

  private matchUncached(repository: string | undefined): RuleMatch | PolicyDenial {
    let normalised: string | undefined;
    if (repository !== undefined && repository !== '') {
      try {
        normalised = normalizeRepository(repository);
      } catch (err) {
        return { code: 'INVALID_REPOSITORY', message: (err as Error).message };
      }
    }
    const index = this.rules.findIndex((rule, i) =>
      normalised === undefined ? rule.repositories.includes('**') : (this.matchers[i] as (repo: string) => boolean)(normalised),
    );
    if (index < 0) {
      return { code: 'NO_TRUST_RULE', message: `no trust rule matches ${normalised === undefined ? 'a request without repository' : `repository ${normalised}`}` };
    }
    return { index, rule: this.rules[index] as TrustRuleConfig, repository: normalised };
  }

  /** Whether the matched rule allows a weak hash (SHA-1) or DSA/ElGamal for one of these keys. */
  allowsWeak(match: RuleMatch, kind: WeakAllowance, fingerprints: readonly string[]): boolean {
    const list = kind === 'sha1' ? match.rule.openpgp.allowSha1 : match.rule.openpgp.allowDsa;
    return fingerprints.some((f) => list.includes(f.toUpperCase()));
  }

  /** KEY_NOT_ALLOWED unless the signing key or its primary key is allowed by the matched rule. */
  authorize(match: RuleMatch, signer: SignerEvidence): PolicyDenial | undefined {
    if (signer.method === 'ssh') return authorizeSsh(match, signer);
    if (signer.method === 'gitsign' && signer.gitsign && match.rule.gitsign) {
      return authorizeGitsign(match.rule.gitsign, signer.gitsign, `${match.repository ?? '(no repository)'} (trust rule ${match.index})`);
    }
    if (signer.method !== 'openpgp') {
      return { code: 'KEY_NOT_ALLOWED', message: `trust rule ${match.index} has no ${signer.method} signers` };
    }
    const { anyTrustedKey, fingerprints } = match.rule.openpgp;
    if (anyTrustedKey) return undefined;
    const candidates = [signer.fingerprint, signer.primaryFingerprint].filter((f): f is string => !!f).map((f) => f.toUpperCase());
    if (candidates.some((f) => fingerprints.includes(f))) return undefined;
    const where = match.repository ?? '(no repository)';
    const key = signer.primaryFingerprint && signer.primaryFingerprint !== signer.fingerprint ? `${signer.fingerprint} (primary ${signer.primaryFingerprint})` : signer.fingerprint;
    return { code: 'KEY_NOT_ALLOWED', message: `key ${key} is trusted but not allowed to sign ${where} (trust rule ${match.index})` };
  }
}

/**
 * SSH: the signer is already admitted by allowed_signers (and, by default, bound to the committer's
 * e-mail); the rule says which principals may sign its repositories.
 */
function authorizeSsh(match: RuleMatch, signer: SignerEvidence): PolicyDenial | undefined {
  const rule = match.rule.ssh;
  if (!rule) return { code: 'KEY_NOT_ALLOWED', message: `trust rule ${match.index} has no ssh signers` };
  if (rule.anyAllowedSigner) return undefined;
  const principal = signer.ssh?.principal;
  if (principal !== undefined && rule.principals.length > 0 && matchPatternList(principal, rule.principals.join(',')) === 1) return undefined;
  const where = match.repository ?? '(no repository)';
  return { code: 'KEY_NOT_ALLOWED', message: `SSH signer ${principal ?? '(no principal)'} (key ${signer.fingerprint}) is an allowed signer but not allowed to sign ${where} (trust rule ${match.index})` };
}

export function isRuleMatch(value: RuleMatch | PolicyDenial): value is RuleMatch {
  return 'rule' in value;
}
