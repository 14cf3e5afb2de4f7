/**
 * The hashedrekord v0.0.1 body gitsign uploads (specs/gitsign.md §3.2): rebuilt byte for byte for
 * offline-mode entries (Rekor's canonical JSON, RFC 8785), and read strictly from looked-up entries,
 * whose public key must be the very certificate in the CMS.
 */
import { json, pem } from '@sigstore/core';
import { GitsignError } from './errors.js';

export const HASHEDREKORD = { kind: 'hashedrekord', version: '0.0.1' } as const;

/** Canonical body for a signature over content with SHA-256 digest `digest` by certificate `leafDer`. */
export function hashedrekordBody(digest: Buffer, signature: Buffer, leafDer: Buffer): Buffer {
  const body = {
    apiVersion: HASHEDREKORD.version,
    kind: HASHEDREKORD.kind,
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(pem.fromDER(leafDer)).toString('base64') } },
    },
  };
  return Buffer.from(json.canonicalize(body), 'utf8');
}

export interface HashedrekordFacts {
  digest: Buffer;
  signature: Buffer;
  certificateDer: Buffer;
}

function mismatch(message: string): GitsignError {
  return new GitsignError('REKOR_ENTRY_MISMATCH', message);
}

/** Reads a looked-up hashedrekord body; anything but a v0.0.1 SHA-256 entry with a certificate is refused. */
export function readHashedrekordBody(body: Buffer): HashedrekordFacts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GitsignError('REKOR_ENTRY_MALFORMED', 'Rekor entry body is not JSON');
  }
  const b = parsed as { kind?: unknown; apiVersion?: unknown; spec?: { data?: { hash?: { algorithm?: unknown; value?: unknown } }; signature?: { content?: unknown; publicKey?: { content?: unknown } } } };
  if (b.kind !== HASHEDREKORD.kind || b.apiVersion !== HASHEDREKORD.version) throw mismatch(`Rekor entry is ${String(b.kind)}/${String(b.apiVersion)}, not hashedrekord/0.0.1`);
  const hash = b.spec?.data?.hash;
  const sig = b.spec?.signature;
  if (hash?.algorithm !== 'sha256' || typeof hash.value !== 'string' || !/^[0-9a-f]{64}$/.test(hash.value)) throw mismatch('Rekor entry does not hold a SHA-256 digest');
  if (typeof sig?.content !== 'string' || typeof sig.publicKey?.content !== 'string') throw mismatch('Rekor entry has no signature or public key');
  const pemText = Buffer.from(sig.publicKey.content, 'base64').toString('utf8');
  if (!pemText.startsWith('-----BEGIN CERTIFICATE-----')) throw mismatch('Rekor entry is signed with a bare key, not a certificate');
  return { digest: Buffer.from(hash.value, 'hex'), signature: Buffer.from(sig.content, 'base64'), certificateDer: Buffer.from(pem.toDER(pemText)) };
}
