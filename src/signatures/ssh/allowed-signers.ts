/**
 * git's `gpg.ssh.allowedSignersFile` format, read exactly as ssh-keygen's sshsig.c reads it:
 *
 *   principals [options] keytype base64 [comment]
 *
 * - principals: a comma-separated OpenSSH pattern list (`*`, `?`, `!negation`), optionally in
 *   double quotes (then it may contain spaces);
 * - options (comma-separated, names case-insensitive): `cert-authority`, `namespaces="list"`,
 *   `valid-after="time"`, `valid-before="time"`, each at most once; values must be quoted;
 * - times: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally suffixed with Z or UTC.
 *   DECISION: a time without a suffix is read as UTC, not as the verifier's local time as
 *   ssh-keygen does, so a verdict never depends on the server's TZ (the corpus ground truth used
 *   UTC as well);
 * - blank lines and lines starting with `#` are ignored.
 * Where ssh-keygen skips a bad line with a warning, we refuse the whole file by default with a
 * ConfigError naming the file and line (a typo must not go unnoticed); `invalidLines: "skip"` gives
 * ssh-keygen's behaviour (trust.allowedSignersInvalidLines). Example of such a line: options
 * separated by a blank (`cert-authority namespaces="git"`) – ssh-keygen reports "invalid key".
 */
import { ConfigError } from '../../errors.js';
import type { PlainKey } from './keys.js';
import { isKnownKeyType, parsePublicKeyText } from './public-key.js';
import { SshFormatError } from './wire.js';

export interface AllowedSigner {
  source: string;
  line: number;
  /** The principals pattern list as written (quotes removed). */
  principals: string;
  certAuthority: boolean;
  /** namespaces="..." pattern list, when present. */
  namespaces?: string;
  /** Seconds since the epoch (UTC), when present. */
  validAfter?: number;
  validBefore?: number;
  /** The signer's key, or the CA key for a cert-authority entry. */
  key: PlainKey;
}

class LineError extends Error {}

const WS = /[ \t]/;

/** Parses an allowed_signers / ssh-keygen absolute time. Returns seconds since the epoch (UTC). */
export function parseSshTime(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(?:Z|UTC)?$/i.exec(value);
  if (!m) throw new LineError(`"${value.slice(0, 40)}" is not YYYYMMDD[HHMM[SS]][Z]`);
  const [y, mo, d, h = '0', mi = '0', s = '0'] = m.slice(1).map((v) => v ?? undefined) as string[];
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === parts[0] && back.getUTCMonth() === parts[1] - 1 && back.getUTCDate() === parts[2] && back.getUTCHours() === parts[3] && back.getUTCMinutes() === parts[4] && back.getUTCSeconds() === parts[5];
  if (!exact || ms <= 0) throw new LineError(`"${value.slice(0, 40)}" is not a valid date and time after 1970`);
  return ms / 1000;
}

/** Reads a `"..."` option value at `s[i]` (with `\"` escapes, as opt_dequote). */
function dequote(s: string, i: number, name: string): { value: string; next: number } {
  if (s[i] !== '"') throw new LineError(`${name}: missing start quote`);
  let out = '';
  let j = i + 1;
  for (; j < s.length && s[j] !== '"'; j++) {
    if (s[j] === '\\' && s[j + 1] === '"') j++;
    out += s[j];
  }
  if (j >= s.length) throw new LineError(`${name}: missing end quote`);
  return { value: out, next: j + 1 };
}

type Options = Pick<AllowedSigner, 'certAuthority' | 'namespaces' | 'validAfter' | 'validBefore'>;

/** sshsigopt_parse. */
export function parseOptions(opts: string): Options {
  const out: Options = { certAuthority: false };
  let i = 0;
  const starts = (word: string): boolean => opts.slice(i, i + word.length).toLowerCase() === word;
  while (i < opts.length) {
    if (starts('cert-authority') && (i + 14 === opts.length || opts[i + 14] === ',')) {
      if (out.certAuthority) throw new LineError('multiple "cert-authority" options');
      out.certAuthority = true;
      i += 14;
    } else if (starts('namespaces=')) {
      if (out.namespaces !== undefined) throw new LineError('multiple "namespaces" clauses');
      const { value, next } = dequote(opts, i + 11, 'namespaces');
      if (value.length === 0) throw new LineError('"namespaces" is empty');
      out.namespaces = value;
      i = next;
    } else if (starts('valid-after=') || starts('valid-before=')) {
      const name = starts('valid-after=') ? 'valid-after' : 'valid-before';
      const field = name === 'valid-after' ? 'validAfter' : 'validBefore';
      if (out[field] !== undefined) throw new LineError(`multiple "${name}" clauses`);
      const { value, next } = dequote(opts, i + name.length + 1, name);
      try {
        out[field] = parseSshTime(value);
      } catch (err) {
        throw new LineError(`invalid "${name}" time: ${(err as Error).message}`);
      }
      i = next;
    } else {
      throw new LineError(`unknown option at "${opts.slice(i, i + 30)}"`);
    }
    if (i === opts.length) break;
    if (opts[i] !== ',') throw new LineError(`unknown option at "${opts.slice(i, i + 30)}"`);
    i++;
    if (i === opts.length) throw new LineError('unexpected end of options');
  }
  if (out.validAfter !== undefined && out.validBefore !== undefined && out.validBefore <= out.validAfter) {
    throw new LineError('"valid-before" is not after "valid-after"');
  }
  return out;
}

/** Splits off the principals field (strdelimw, with strict quoting). */
function splitPrincipals(line: string): { principals: string; rest: string } {
  let principals: string;
  let rest: string;
  if (line.startsWith('"')) {
    const close = line.indexOf('"', 1);
    if (close < 0) throw new LineError('principals: missing end quote');
    principals = line.slice(1, close);
    rest = line.slice(close + 1);
    if (rest.length > 0 && !WS.test(rest[0] as string)) throw new LineError('principals: text right after the closing quote');
  } else {
    const m = /^(\S+)(.*)$/.exec(line) as RegExpExecArray;
    principals = m[1] as string;
    rest = m[2] as string;
    if (principals.includes('"')) throw new LineError('principals: stray double quote');
  }
  rest = rest.replace(/^[ \t]+/, '');
  if (principals.length === 0) throw new LineError('empty principals');
  if (rest.length === 0) throw new LineError('missing key');
  return { principals, rest };
}

/** Splits the options field (up to the first unquoted blank; `\"` does not toggle) from the key text (sshkey_advance_past_options). */
function splitOptions(rest: string): { options: string; keyText: string } {
  const first = /^\S+/.exec(rest)?.[0] ?? '';
  if (isKnownKeyType(first)) return { options: '', keyText: rest };
  let quoted = false;
  let i = 0;
  for (; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === '\\' && rest[i + 1] === '"') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && WS.test(c)) break;
  }
  if (quoted) throw new LineError('options: unterminated quote');
  const keyText = rest.slice(i).replace(/^[ \t]+/, '');
  if (keyText.length === 0) throw new LineError('missing key');
  return { options: rest.slice(0, i), keyText };
}

export function parseAllowedSignerLine(raw: string, source: string, lineNo: number): AllowedSigner | undefined {
  const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  const { principals, rest } = splitPrincipals(line);
  const { options, keyText } = splitOptions(rest);
  const opts = parseOptions(options);
  let parsed;
  try {
    parsed = parsePublicKeyText(keyText.replace(/[ \t]+$/, '')).key;
  } catch (err) {
    throw new LineError(`invalid key: ${(err as SshFormatError).message}`);
  }
  if (parsed.kind === 'certificate') {
    throw new LineError(opts.certAuthority ? 'a cert-authority key must be a plain key, not a certificate' : 'a certificate cannot be listed as a signer: list its CA key with cert-authority, or the plain key');
  }
  return { source, line: lineNo, principals, ...opts, key: parsed.key };
}

export interface ParseAllowedSignersOptions {
  /**
   * "reject" (default): any invalid line refuses the whole file. "skip": drop invalid lines as
   * ssh-keygen does (this can only remove trust, never add it) and collect them in `warnings`.
   */
  invalidLines?: 'reject' | 'skip';
  warnings?: ConfigError[];
}

/** Parses a whole allowed_signers text. Throws ConfigError ALLOWED_SIGNERS_INVALID with file and line. */
export function parseAllowedSigners(text: string, source: string, options: ParseAllowedSignersOptions = {}): AllowedSigner[] {
  const out: AllowedSigner[] = [];
  text.split('\n').forEach((raw, i) => {
    try {
      const entry = parseAllowedSignerLine(raw, source, i + 1);
      if (entry) out.push(entry);
    } catch (err) {
      if (!(err instanceof LineError || err instanceof SshFormatError)) throw err;
      const problem = new ConfigError('ALLOWED_SIGNERS_INVALID', `${source}:${i + 1}: ${err.message}`, { file: source, line: i + 1 });
      if (options.invalidLines !== 'skip') throw problem;
      options.warnings?.push(problem);
    }
  });
  return out;
}
