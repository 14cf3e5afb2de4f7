/** allowed_signers and revoked-keys parsing (as ssh-keygen's sshsig.c reads them) and OpenSSH patterns. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { matchPattern, matchPatternList, parseAllowedSigners, parseRevokedKeys, parseSshTime } from '../../src/signatures/ssh/index.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICIFF9ltBuCJGJBJnAo6Lccd79gpk7kPE2loBr7F52my';
const EC = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFbmju2JhKoOwIOz1Jm9M6P+s0DxucpQ39ktlIfrxUc015658LYxMWG9C2ByLTL38IERUqJu8gkMeqHxLN+oc8o=';
const SK = 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIO7cZyNhItLVPpgYlu6exGpSnqVuZtDdPXjtauslVtCCAAAABHNzaDo=';

function parse(text: string) {
  return parseAllowedSigners(text, 'signers');
}

function problem(text: string): ConfigError {
  try {
    parse(text);
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('allowed_signers', () => {
  it('reads principals, options, keys and comments; skips blank and comment lines', () => {
    const entries = parse(
      [
        '# team keys',
        '',
        `alice@example.invalid ${ED} alice laptop`,
        `   "bob@example.invalid,b o b" namespaces="git,file",valid-after="20240101",valid-before="20250101120000Z" ${EC}`,
        `*@ca.example.invalid CERT-AUTHORITY ${ED}`,
        `carol@example.invalid NameSpaces="g\\"it" ${SK}\r`,
      ].join('\n'),
    );
    expect(entries).toHaveLength(4);
    expect(entries[0]).toMatchObject({ line: 3, principals: 'alice@example.invalid', certAuthority: false, key: { type: 'ssh-ed25519', fingerprint: 'SHA256:f+1Sn6tvdJEIP7UQjsSGgdGbHJe3ZDV0vqj3KR/zY5E' } });
    expect(entries[0]?.namespaces).toBeUndefined();
    expect(entries[1]).toMatchObject({ line: 4, principals: 'bob@example.invalid,b o b', namespaces: 'git,file', validAfter: Date.UTC(2024, 0, 1) / 1000, validBefore: Date.UTC(2025, 0, 1, 12) / 1000 });
    expect(entries[2]).toMatchObject({ certAuthority: true, principals: '*@ca.example.invalid' });
    expect(entries[3]).toMatchObject({ namespaces: 'g"it', key: { type: 'sk-ssh-ed25519@openssh.com', application: 'ssh:' } });
  });

  it.each([
    ['missing key', 'alice@example.invalid', 'missing key'],
    ['options without key', 'alice@example.invalid namespaces="git"', 'missing key'],
    ['unknown option', `alice@example.invalid no-touch-required ${ED}`, 'unknown option'],
    ['unquoted value', `alice@example.invalid namespaces=git ${ED}`, 'missing start quote'],
    ['repeated option', `alice@example.invalid namespaces="git",namespaces="file" ${ED}`, 'multiple "namespaces"'],
    ['blank between options (ssh-keygen: invalid key)', `alice@example.invalid cert-authority namespaces="git" ${ED}`, 'invalid key'],
    ['bad time', `alice@example.invalid valid-after="2024-01-01" ${ED}`, 'invalid "valid-after"'],
    ['impossible date', `alice@example.invalid valid-after="20240230" ${ED}`, 'not a valid date'],
    ['window ends before it starts', `alice@example.invalid valid-after="20250101",valid-before="20240101" ${ED}`, 'not after'],
    ['trailing comma', `alice@example.invalid cert-authority, ${ED}`, 'end of options'],
    ['unterminated principal quote', `"alice@example.invalid ${ED}`, 'missing end quote'],
    ['bad base64', 'alice@example.invalid ssh-ed25519 AAAA!', 'invalid key'],
    ['type mismatch', `alice@example.invalid ssh-rsa ${ED.split(' ')[1]}`, 'invalid key'],
    ['truncated key', `alice@example.invalid ${ED.slice(0, -8)}`, 'invalid key'],
    ['certificate as a signer', `alice@example.invalid ssh-ed25519-cert-v01@openssh.com ${ED.split(' ')[1]}`, 'invalid key'],
  ])('%s: ConfigError ALLOWED_SIGNERS_INVALID with file and line', (_name, line, message) => {
    const err = problem(`# header\n${line}\n`);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('ALLOWED_SIGNERS_INVALID');
    expect(err.location).toEqual({ file: 'signers', line: 2 });
    expect(err.message).toMatch(/^signers:2: /);
    expect(err.message).toContain(message);
  });

  it('invalidLines "skip" drops bad lines like ssh-keygen and reports them', () => {
    const warnings: ConfigError[] = [];
    const entries = parseAllowedSigners(`bad line\nalice@example.invalid ${ED}\n`, 'signers', { invalidLines: 'skip', warnings });
    expect(entries).toHaveLength(1);
    expect(warnings.map((w) => w.location?.line)).toEqual([1]);
  });

  it('times: YYYYMMDD[HHMM[SS]] with optional Z/UTC, read as UTC', () => {
    expect(parseSshTime('20240723')).toBe(Date.UTC(2024, 6, 23) / 1000);
    expect(parseSshTime('202407232002')).toBe(Date.UTC(2024, 6, 23, 20, 2) / 1000);
    expect(parseSshTime('20240723200207')).toBe(Date.UTC(2024, 6, 23, 20, 2, 7) / 1000);
    expect(parseSshTime('20240723200207Z')).toBe(parseSshTime('20240723200207utc'));
    for (const bad of ['2024072', '202407232', '20241301', '20240723250000', '19700101', 'tomorrow']) expect(() => parseSshTime(bad)).toThrow();
  });
});

describe('revoked keys', () => {
  it('reads plain public keys, ignores comments, refuses KRLs and bad lines', () => {
    const keys = parseRevokedKeys(Buffer.from(`# revoked\n\n${ED} old\n${EC}\n`), 'revoked');
    expect(keys.map((k) => k.line)).toEqual([3, 4]);
    expect(() => parseRevokedKeys(Buffer.concat([Buffer.from('SSHKRL\n\0'), Buffer.alloc(40)]), 'krl')).toThrow(expect.objectContaining({ code: 'SSH_KRL_UNSUPPORTED' }));
    expect(() => parseRevokedKeys(Buffer.from(`${ED}\nnot a key\n`), 'revoked')).toThrow(expect.objectContaining({ code: 'SSH_REVOKED_KEYS_INVALID', location: { file: 'revoked', line: 2 } }));
  });
});

describe('OpenSSH patterns', () => {
  it('match_pattern: * and ? over the whole string', () => {
    expect(matchPattern('alice@example.invalid', '*@example.invalid')).toBe(true);
    expect(matchPattern('alice@example.invalid', 'a?ice@*')).toBe(true);
    expect(matchPattern('alice@example.invalid', '*@example')).toBe(false);
    expect(matchPattern('', '*')).toBe(true);
    expect(matchPattern('a'.repeat(5000), `${'*a'.repeat(200)}b`)).toBe(false);
    expect(matchPattern('alice@example.invalid', 'alice@example.invalid')).toBe(true);
    expect(matchPattern('alice@example.invalid', 'alice@example.invali')).toBe(false);
    expect(matchPattern('Alice@example.invalid', 'alice@example.invalid')).toBe(false);
    expect(matchPattern('', '')).toBe(true);
    expect(matchPattern('a', '')).toBe(false);
  });

  it('match_pattern_list: comma list with negation winning', () => {
    expect(matchPatternList('git', 'file,git')).toBe(1);
    expect(matchPatternList('git', 'file')).toBe(0);
    expect(matchPatternList('git', '*,!git')).toBe(-1);
    expect(matchPatternList('git', '')).toBe(0);
  });
});

describe('SSH public keys', () => {
  it('refuses an ECDSA point that is not on the curve (MALFORMED in a signature, invalid key in allowed_signers)', () => {
    const blob = Buffer.from(EC.split(' ')[1] as string, 'base64');
    blob.writeUInt8((blob.at(-1) as number) ^ 1, blob.length - 1);
    const err = problem(`alice@example.invalid ecdsa-sha2-nistp256 ${blob.toString('base64')}`);
    expect(err.message).toContain('not a valid point on the curve');
  });
});
