import { describe, expect, it } from 'vitest';
import { findException, parseExceptions } from '../../src/policy/exceptions.js';

const doc = (spec: string) => `apiVersion: syncgate.dev/v1alpha1
kind: PolicyException
metadata: {name: e1}
spec:
${spec}`;

const base = `  policy: p
  resources: [{kind: Deployment, namespace: "team-*"}]
  owner: o@example.invalid
  reason: r
  expires: "2027-01-31"
`;

describe('policy exceptions', () => {
  it('parses, matches by glob and applies through the expiry day (UTC)', () => {
    const [e] = parseExceptions(doc(base), 'x.yaml');
    const res = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'w' };
    expect(findException([e!], 'p', 'any-rule', res, new Date('2027-01-31T23:59:59Z'))).toBe(e);
    expect(findException([e!], 'p', 'any-rule', res, new Date('2027-02-01T00:00:00Z'))).toBeUndefined();
    expect(findException([e!], 'p', 'r', { ...res, namespace: 'other' }, new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(findException([e!], 'other-policy', 'r', res, new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('limits an exception to the rules it names', () => {
    const [e] = parseExceptions(doc(`${base}  rules: [only-this]\n`), 'x.yaml');
    const res = { apiVersion: 'v1', kind: 'Deployment', namespace: 'team-a' };
    const now = new Date('2026-01-01T00:00:00Z');
    expect(findException([e!], 'p', 'only-this', res, now)).toBe(e);
    expect(findException([e!], 'p', 'another', res, now)).toBeUndefined();
  });

  it('requires owner, reason and expiry, naming the file, document and field', () => {
    const text = `${doc(base)}---\n${doc(base.replace('  owner: o@example.invalid\n', ''))}`;
    expect(() => parseExceptions(text, 'ex.yaml')).toThrow(
      expect.objectContaining({ code: 'EXCEPTION_INVALID', location: { file: 'ex.yaml', document: 1, path: 'spec.owner' } }),
    );
    expect(() => parseExceptions(doc(base.replace('"2027-01-31"', 'next week')), 'ex.yaml')).toThrow(
      expect.objectContaining({ code: 'EXCEPTION_INVALID', location: expect.objectContaining({ path: 'spec.expires' }) }),
    );
    expect(() => parseExceptions('a: [', 'ex.yaml')).toThrow(expect.objectContaining({ code: 'EXCEPTION_PARSE_ERROR' }));
  });
});
