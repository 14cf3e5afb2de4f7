/**
 * git's `gpg.ssh.revocationFile` (ssh-keygen -r) as a plain list of public keys, one per line
 * (`keytype base64 [comment]`; blank and `#` lines ignored). A listed certificate revokes its key.
 * OpenSSH binary KRLs are recognised by their magic and refused with SSH_KRL_UNSUPPORTED: convert
 * the KRL's keys to a plain list (a KRL that revokes certificates by serial or key id cannot be
 * expressed as keys, and a revocation we cannot read must not be silently ignored).
 */
import { ConfigError } from '../../errors.js';
import { parsePublicKeyText } from './public-key.js';
import { SshFormatError } from './wire.js';

const KRL_MAGIC = Buffer.from('SSHKRL\n\0', 'latin1');

export interface RevokedKey {
  source: string;
  line: number;
  /** Plain public-key blob (a certificate's certified key). */
  blob: Buffer;
  fingerprint: string;
}

export function parseRevokedKeys(bytes: Buffer, source: string): RevokedKey[] {
  if (bytes.subarray(0, KRL_MAGIC.length).equals(KRL_MAGIC)) {
    throw new ConfigError('SSH_KRL_UNSUPPORTED', `${source}: OpenSSH binary KRLs are not supported; list the revoked public keys one per line instead`, { file: source });
  }
  const out: RevokedKey[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/\r$/, '').trim();
      if (line === '' || line.startsWith('#')) return;
      try {
        const { key } = parsePublicKeyText(line);
        out.push({ source, line: i + 1, blob: key.key.blob, fingerprint: key.key.fingerprint });
      } catch (err) {
        if (!(err instanceof SshFormatError)) throw err;
        throw new ConfigError('SSH_REVOKED_KEYS_INVALID', `${source}:${i + 1}: invalid revoked key: ${err.message}`, { file: source, line: i + 1 });
      }
    });
  return out;
}
