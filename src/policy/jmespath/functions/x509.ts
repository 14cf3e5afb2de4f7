/**
 * `x509_decode(pem)`: a PEM certificate to a JSON object with Go `x509.Certificate` field names
 * (the subset node:crypto exposes). CSRs are not supported by node:crypto and give an error.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { FunctionDef, JsonObject, JsonValue } from '../types.js';
import { arg, def, fnError, T } from './util.js';
import { formatRFC3339 } from './gotime.js';

const DN_FIELDS: Record<string, string> = {
  CN: 'CommonName', O: 'Organization', OU: 'OrganizationalUnit', C: 'Country', ST: 'Province', L: 'Locality',
  street: 'StreetAddress', postalCode: 'PostalCode', serialNumber: 'SerialNumber',
};
const LIST_FIELDS = new Set(['Organization', 'OrganizationalUnit', 'Country', 'Province', 'Locality', 'StreetAddress', 'PostalCode']);

function parseName(dn: string): JsonObject {
  const out: Record<string, JsonValue> = { CommonName: '', SerialNumber: '' };
  for (const f of LIST_FIELDS) out[f] = null;
  for (const line of dn.split('\n')) {
    const at = line.indexOf('=');
    if (at < 0) continue;
    const field = DN_FIELDS[line.slice(0, at)];
    if (!field) continue;
    const value = line.slice(at + 1);
    if (LIST_FIELDS.has(field)) out[field] = [...((out[field] as string[] | null) ?? []), value];
    else out[field] = value;
  }
  return out;
}

function time(s: string): string {
  return formatRFC3339({ ns: BigInt(Date.parse(s)) * 1_000_000n, offset: 0 });
}

function publicKey(key: KeyObject): { alg: number; key: JsonValue } {
  const jwk = key.export({ format: 'jwk' });
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { alg: 1, key: { N: BigInt(`0x${Buffer.from(jwk.n as string, 'base64url').toString('hex')}`).toString(), E: Number(BigInt(`0x${Buffer.from(jwk.e as string, 'base64url').toString('hex')}`)) } };
    case 'ec':
      return { alg: 3, key: { Curve: (jwk.crv as string) ?? '', X: jwk.x ?? '', Y: jwk.y ?? '' } };
    case 'ed25519':
      return { alg: 4, key: jwk.x ?? '' };
    default:
      return { alg: 0, key: null };
  }
}

function subjectAltNames(san: string | undefined): { dns: string[]; email: string[]; ip: string[]; uri: string[] } {
  const out = { dns: [] as string[], email: [] as string[], ip: [] as string[], uri: [] as string[] };
  for (const part of (san ?? '').split(/,\s*/)) {
    const [kind, ...rest] = part.split(':');
    const value = rest.join(':');
    if (kind === 'DNS') out.dns.push(value);
    else if (kind === 'email') out.email.push(value);
    else if (kind === 'IP Address') out.ip.push(value);
    else if (kind === 'URI') out.uri.push(value);
  }
  return out;
}

export function decodeCertificate(pem: string): JsonObject {
  if (/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(pem)) throw new Error('certificate signing requests are not supported');
  const cert = new X509Certificate(pem);
  const { alg, key } = publicKey(cert.publicKey);
  const san = subjectAltNames(cert.subjectAltName);
  return {
    Version: 3,
    SerialNumber: BigInt(`0x${cert.serialNumber}`).toString(),
    Issuer: parseName(cert.issuer),
    Subject: parseName(cert.subject),
    NotBefore: time(cert.validFrom),
    NotAfter: time(cert.validTo),
    IsCA: cert.ca,
    DNSNames: san.dns.length ? san.dns : null,
    EmailAddresses: san.email.length ? san.email : null,
    IPAddresses: san.ip.length ? san.ip : null,
    URIs: san.uri.length ? san.uri : null,
    PublicKeyAlgorithm: alg,
    PublicKey: key,
    Fingerprint256: cert.fingerprint256,
  };
}

export function x509Functions(): FunctionDef[] {
  return [
    def('x509_decode', [arg(T.string)], ([pem]) => {
      try {
        return decodeCertificate(pem as string);
      } catch (err) {
        throw fnError('x509_decode', (err as Error).message);
      }
    }),
  ];
}
