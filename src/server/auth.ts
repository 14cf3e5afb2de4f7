import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export interface NamedToken {
  name: string;
  digest: Buffer;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Reads the configured tokens once at start; a missing file or variable stops the start. */
export function loadTokens(entries: Array<{ name: string; tokenFile?: string; tokenEnv?: string }>, configPath: string): NamedToken[] {
  return entries.map((e) => {
    let value: string | undefined;
    if (e.tokenFile) {
      try {
        value = readFileSync(e.tokenFile, 'utf8').trim();
      } catch (err) {
        throw new ConfigError('TOKEN_UNREADABLE', `auth token "${e.name}": cannot read ${e.tokenFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
          file: e.tokenFile,
        });
      }
    } else if (e.tokenEnv) {
      value = process.env[e.tokenEnv]?.trim();
    }
    if (!value) throw new ConfigError('TOKEN_EMPTY', `auth token "${e.name}": the token is empty or not set`, { path: configPath });
    return { name: e.name, digest: digest(value) };
  });
}

/**
 * Returns the name of the token presented in an `Authorization: Bearer` header, or undefined.
 * Compares fixed-length digests in constant time, and always walks every token.
 */
export function authenticateBearer(header: string | undefined, tokens: NamedToken[]): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const presented = digest(match?.[1] ?? '');
  let found: string | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(presented, t.digest) && match) found ??= t.name;
  }
  return found;
}
