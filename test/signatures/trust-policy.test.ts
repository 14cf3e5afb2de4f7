import { describe, expect, it } from 'vitest';
import type { TrustRuleConfig } from '../../src/config/trust.js';
import { trustSchema } from '../../src/config/trust.js';
import { InputError } from '../../src/errors.js';
import type { RuleMatch } from '../../src/signatures/trust-policy.js';
import { TrustPolicy, isRuleMatch, normalizeRepository } from '../../src/signatures/trust-policy.js';
import type { SignerEvidence } from '../../src/signatures/types.js';

const FPR_A = 'A'.repeat(40);
const FPR_B = 'B'.repeat(40);
const SUB_B = 'C'.repeat(40);

function rules(input: unknown): TrustRuleConfig[] {
  return trustSchema.parse({ rules: input }).rules;
}

const signer = (fingerprint: string, primaryFingerprint = fingerprint): SignerEvidence => ({ method: 'openpgp', fingerprint, primaryFingerprint });

describe('normalizeRepository', () => {
  it.each([
    ['https://github.com/Org/Repo.git', 'github.com/org/repo'],
    ['https://GitHub.com/org/repo/', 'github.com/org/repo'],
    ['https://user:secret@github.com/org/repo', 'github.com/org/repo'],
    ['git@github.com:org/repo.git', 'github.com/org/repo'],
    ['ssh://git@host.example:22/org/repo', 'host.example/org/repo'],
    ['ssh://git@host.example:2222/org/repo.git', 'host.example:2222/org/repo'],
    ['https://gitlab.example/group/sub/project.git', 'gitlab.example/group/sub/project'],
    ['github.com/org/repo', 'github.com/org/repo'],
    ['  https://github.com/org/repo  ', 'github.com/org/repo'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRepository(input)).toBe(expected);
  });

  it.each(['', 'repo', 'file:///srv/repo', 'https://github.com/org/../secret', 'https://github.com/org/repo?x=1', 'https://github.com', 'git@github.com:', 'https://github.com/a b', 'ftp://x.y/z'])(
    'rejects %j',
    (input) => {
      expect(() => normalizeRepository(input)).toThrow(InputError);
    },
  );

  it('never puts credentials in the error message', () => {
    for (const input of ['https://user:hunter2@github.com/org/../x', 'https://hunter2@github.com/org/../x', 'ssh://git:hunter2@host:2222/a b', 'https://x:hunter2@[bad/org/repo']) {
      expect(() => normalizeRepository(input)).toThrow(expect.objectContaining({ code: 'INVALID_REPOSITORY', message: expect.not.stringContaining('hunter2') }));
    }
  });
});

describe('TrustPolicy', () => {
  const policy = TrustPolicy.fromConfig({
    rules: rules([
      { repositories: ['github.com/acme/infra'], openpgp: { fingerprints: [FPR_A], allowSha1: [FPR_A] } },
      { repositories: ['github.com/acme/*', 'gitlab.example/**'], openpgp: { fingerprints: [FPR_B.toLowerCase()], allowDsa: [SUB_B] } },
      { repositories: ['**'], openpgp: { anyTrustedKey: true } },
    ]),
  });
  const match = (repo?: string): RuleMatch => {
    const m = policy.match(repo);
    if (!isRuleMatch(m)) throw new Error(m.message);
    return m;
  };

  it('picks the first rule whose glob matches the normalised repository', () => {
    expect(match('https://github.com/ACME/infra.git').index).toBe(0);
    expect(match('git@github.com:acme/apps.git')).toMatchObject({ index: 1, repository: 'github.com/acme/apps' });
    expect(match('https://gitlab.example/a/b/c').index).toBe(1);
    expect(match('https://example.org/x/y').index).toBe(2);
    expect(match(undefined)).toMatchObject({ index: 2, repository: undefined });
  });

  it('allows the signing key or its primary key, else KEY_NOT_ALLOWED naming key and repository', () => {
    expect(policy.authorize(match('github.com/acme/infra'), signer(FPR_A))).toBeUndefined();
    expect(policy.authorize(match('github.com/acme/apps'), signer(SUB_B, FPR_B))).toBeUndefined();
    const denied = policy.authorize(match('github.com/acme/apps'), signer(FPR_A));
    expect(denied?.code).toBe('KEY_NOT_ALLOWED');
    expect(denied?.message).toContain(FPR_A);
    expect(denied?.message).toContain('github.com/acme/apps');
    expect(policy.authorize(match('example.org/x/y'), signer(FPR_A))).toBeUndefined();
    expect(policy.authorize(match('github.com/acme/infra'), { method: 'ssh', fingerprint: 'SHA256:x' })?.code).toBe('KEY_NOT_ALLOWED');
  });

  it('scopes weak-algorithm allowances to the matched rule and named keys', () => {
    expect(policy.allowsWeak(match('github.com/acme/infra'), 'sha1', [FPR_A])).toBe(true);
    expect(policy.allowsWeak(match('github.com/acme/apps'), 'sha1', [FPR_A])).toBe(false);
    expect(policy.allowsWeak(match('github.com/acme/apps'), 'dsa', [SUB_B, FPR_B])).toBe(true);
    expect(policy.allowsWeak(match('github.com/acme/infra'), 'dsa', [SUB_B, FPR_B])).toBe(false);
  });

  it('validates rules given without the schema (ConfigError)', () => {
    expect(() => TrustPolicy.fromConfig({ rules: [{ repositories: ['**'], openpgp: { fingerprints: ['ABCD1234ABCD1234'] } }] as unknown as TrustRuleConfig[] })).toThrow(/full OpenPGP fingerprint/);
    const lax = TrustPolicy.fromConfig({ rules: [{ repositories: ['**'], openpgp: { fingerprints: [FPR_A.toLowerCase()] } }] as unknown as TrustRuleConfig[] });
    const m = lax.match('github.com/a/b');
    expect(isRuleMatch(m) && lax.authorize(m, signer(FPR_A))).toBeUndefined();
  });

  it('answers a repeated repository as it did the first time, past the remembered count and for long names too', () => {
    const fresh = () => TrustPolicy.fromConfig({ rules: rules([{ repositories: ['github.com/acme/*'], openpgp: { anyTrustedKey: true } }]) });
    const remembering = fresh();
    const names = ['https://github.com/acme/x.git', 'github.com/other/y', 'not a repo', `github.com/acme/${'n'.repeat(600)}`, ...Array.from({ length: 1100 }, (_, i) => `github.com/${i % 2 ? 'acme' : 'other'}/r${i}`)];
    for (const pass of [0, 1]) for (const name of pass ? [...names].reverse() : names) expect(remembering.match(name)).toEqual(fresh().match(name));
    expect(remembering.match(undefined)).toEqual(fresh().match(undefined));
  });

  it('denies with NO_TRUST_RULE or INVALID_REPOSITORY', () => {
    const narrow = TrustPolicy.fromConfig({ rules: rules([{ repositories: ['github.com/acme/*'], openpgp: { anyTrustedKey: true } }]) });
    expect(narrow.match('https://github.com/other/x')).toMatchObject({ code: 'NO_TRUST_RULE' });
    expect(narrow.match(undefined)).toMatchObject({ code: 'NO_TRUST_RULE' });
    expect(narrow.match('not a repo')).toMatchObject({ code: 'INVALID_REPOSITORY' });
    expect(TrustPolicy.fromConfig({ rules: [] }).match('github.com/a/b')).toMatchObject({ code: 'NO_TRUST_RULE' });
  });
});

describe('normalizeRepository refuses look-alike names', () => {
  it('refuses non-ASCII characters that lower-case into ASCII, and encoded separators', () => {
    const normalize = normalizeRepository;
    expect(() => normalize('https://github.com/\u212Aube/x')).toThrow(expect.objectContaining({ code: 'INVALID_REPOSITORY' }));
    expect(() => normalize('https://github.com/acme/repo%2Fother')).toThrow(expect.objectContaining({ code: 'INVALID_REPOSITORY' }));
    expect(normalize('https://github.com/Kube/X.git')).toBe('github.com/kube/x');
  });
});
