/**
 * Strict parsing of the detached CMS SignedData (RFC 5652) that gitsign writes under
 * `-----BEGIN SIGNED MESSAGE-----` (specs/gitsign.md §1.2). Only the layout gitsign produces is
 * accepted: one SignerInfo, SHA-256, ECDSA, detached content, signed attributes contentType=id-data,
 * messageDigest and signingTime (each once, single-valued, DER-sorted), and unsigned attributes
 * limited to the Rekor entry (57264.3.1) and an RFC 3161 token.
 *
 * The signed attributes are taken from the ORIGINAL bytes and re-tagged from [0] to SET (0x31):
 * that is what the ECDSA signature and the Rekor entry cover. They are never re-encoded.
 */
import type { DerNode } from './der.js';
import { DerError, TAG, children, contentBytes, expectChildren, expectTag, isDerSorted, parseDer, rawBytes, readOid, readSmallInteger } from './der.js';
import { GitsignError } from './errors.js';

export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rekorEntry: '1.3.6.1.4.1.57264.3.1',
  timestampToken: '1.2.840.113549.1.9.16.2.14',
} as const;

/** The gitsign arc for Rekor data; pre-release prototypes spread fields over 57264.3.0..3.9. */
const REKOR_ARC = '1.3.6.1.4.1.57264.3.';
/** Larger CMS blobs are refused before parsing (real ones are 1-5 KiB). */
export const MAX_CMS_BYTES = 64 * 1024;

/** issuer: the content octets of the issuer Name (as @sigstore/core's X509Certificate.issuer). */
export type SignerId = { kind: 'issuerSerial'; issuer: Buffer; serial: Buffer } | { kind: 'subjectKeyId'; keyId: Buffer };

export interface GitsignCms {
  /** Embedded certificates, each as its original DER. */
  certificates: Buffer[];
  signerId: SignerId;
  /** DER of the signed attributes re-tagged as SET (the bytes the signature covers). */
  signedAttributes: Buffer;
  messageDigest: Buffer;
  /** The signer's clock; untrusted, recorded only. */
  signingTime: Date;
  /** DER ECDSA signature. */
  signature: Buffer;
  /** The offline-mode Rekor TransparencyLogEntry (protobuf), when present. */
  rekorEntry?: Buffer;
  /** RFC 3161 TimeStampTokens (DER ContentInfo), when present. */
  timestampTokens: Buffer[];
}

function malformed(message: string): GitsignError {
  return new GitsignError('CMS_MALFORMED', message);
}

/** AlgorithmIdentifier with absent or NULL parameters; returns its OID. */
function algorithm(node: DerNode | undefined, what: string): string {
  const subs = expectChildren(node, TAG.SEQUENCE, what, 1, 2);
  const oid = readOid(subs[0], `${what} algorithm`);
  if (subs[1] && (subs[1].tag !== TAG.NULL || subs[1].end !== subs[1].contentStart)) throw new DerError(`${what}: unexpected algorithm parameters`);
  return oid;
}

interface Attribute {
  oid: string;
  values: DerNode[];
}

function attributes(node: DerNode, what: string): Attribute[] {
  const list = children(node);
  if (list.length === 0) throw new DerError(`${what}: empty attribute set`);
  if (!isDerSorted(list)) throw new DerError(`${what}: attributes are not in DER order`);
  const seen = new Set<string>();
  return list.map((attr, i) => {
    const [type, set] = expectChildren(attr, TAG.SEQUENCE, `${what} ${i}`, 2);
    const oid = readOid(type, `${what} ${i} type`);
    if (seen.has(oid)) throw new DerError(`${what}: attribute ${oid} appears twice`);
    seen.add(oid);
    const values = children(expectTag(set, TAG.SET, `${what} ${oid} values`));
    return { oid, values };
  });
}

function single(attr: Attribute | undefined, what: string): DerNode {
  if (!attr) throw malformed(`signed attribute ${what} is missing`);
  if (attr.values.length !== 1) throw malformed(`signed attribute ${what} must have exactly one value`);
  return attr.values[0] as DerNode;
}

function parseTime(node: DerNode, what: string): Date {
  const text = contentBytes(node).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(m[1]);
    year += year >= 50 ? 1900 : 2000;
  } else if (node.tag === TAG.GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text))) {
    year = Number(m[1]);
  } else {
    throw malformed(`${what} is not a DER UTCTime or GeneralizedTime`);
  }
  const [mo, d, h, mi, s] = m.slice(2, 7).map(Number) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, s));
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw malformed(`${what} is not a valid date`);
  return date;
}

function signerId(node: DerNode | undefined, version: number): SignerId {
  if (version === 1) {
    const [issuer, serial] = expectChildren(node, TAG.SEQUENCE, 'issuerAndSerialNumber', 2);
    expectTag(issuer, TAG.SEQUENCE, 'issuer name');
    expectTag(serial, TAG.INTEGER, 'serial number');
    return { kind: 'issuerSerial', issuer: contentBytes(issuer as DerNode), serial: contentBytes(serial as DerNode) };
  }
  if (version === 3) return { kind: 'subjectKeyId', keyId: contentBytes(expectTag(node, 0x80, 'subjectKeyIdentifier')) };
  throw malformed(`SignerInfo version ${version} is not 1 or 3`);
}

function parseSignerInfo(node: DerNode): Omit<GitsignCms, 'certificates'> {
  const subs = expectChildren(node, TAG.SEQUENCE, 'SignerInfo', 6, 7);
  const version = readSmallInteger(subs[0], 'SignerInfo version');
  const sid = signerId(subs[1], version);
  const digest = algorithm(subs[2], 'digestAlgorithm');
  if (digest !== OID.sha256) throw new GitsignError('CMS_UNSUPPORTED_ALGORITHM', `digest algorithm ${digest} is not SHA-256`);
  const signedNode = expectTag(subs[3], 0xa0, 'signedAttrs');
  const sigAlg = algorithm(subs[4], 'signatureAlgorithm');
  if (sigAlg !== OID.ecdsaWithSha256) throw new GitsignError('CMS_UNSUPPORTED_ALGORITHM', `signature algorithm ${sigAlg} is not ecdsa-with-SHA256`);
  const signature = contentBytes(expectTag(subs[5], TAG.OCTET_STRING, 'signature'));
  if (signature.length === 0) throw malformed('empty signature');

  const signed = new Map(attributes(signedNode, 'signed attributes').map((a) => [a.oid, a]));
  for (const oid of signed.keys()) {
    if (oid !== OID.contentType && oid !== OID.messageDigest && oid !== OID.signingTime) throw malformed(`unexpected signed attribute ${oid}`);
  }
  if (readOid(single(signed.get(OID.contentType), 'contentType'), 'contentType value') !== OID.data) throw malformed('signed contentType is not id-data');
  const messageDigest = contentBytes(expectTag(single(signed.get(OID.messageDigest), 'messageDigest'), TAG.OCTET_STRING, 'messageDigest value'));
  if (messageDigest.length !== 32) throw malformed('messageDigest is not a SHA-256 digest');
  const signingTime = parseTime(single(signed.get(OID.signingTime), 'signingTime'), 'signingTime');

  // [0] IMPLICIT SET OF Attribute: same bytes with the SET tag (RFC 5652 §5.4).
  const signedAttributes = Buffer.from(rawBytes(signedNode));
  signedAttributes[0] = TAG.SET;

  const out: Omit<GitsignCms, 'certificates'> = { signerId: sid, signedAttributes, messageDigest, signingTime, signature, timestampTokens: [] };
  const unsignedNode = subs[6];
  if (unsignedNode) {
    expectTag(unsignedNode, 0xa1, 'unsignedAttrs');
    for (const attr of attributes(unsignedNode, 'unsigned attributes')) {
      if (attr.oid === OID.rekorEntry) {
        const value = attr.values.length === 1 ? attr.values[0] : undefined;
        if (!value || value.tag !== TAG.OCTET_STRING) {
          throw new GitsignError('REKOR_ENTRY_MALFORMED', 'the Rekor entry attribute (57264.3.1) must hold exactly one OCTET STRING (pre-release gitsign layouts are not accepted)');
        }
        out.rekorEntry = contentBytes(value);
      } else if (attr.oid === OID.timestampToken) {
        for (const v of attr.values) out.timestampTokens.push(rawBytes(expectTag(v, TAG.SEQUENCE, 'timestamp token')));
      } else if (attr.oid.startsWith(REKOR_ARC)) {
        throw new GitsignError('REKOR_ENTRY_MALFORMED', `unsigned attribute ${attr.oid} belongs to a pre-release gitsign layout`);
      } else {
        throw malformed(`unexpected unsigned attribute ${attr.oid}`);
      }
    }
  }
  return out;
}

/** Parses the DER of a gitsign signature. Throws GitsignError (CMS_*, REKOR_ENTRY_MALFORMED). */
export function parseGitsignCms(der: Uint8Array): GitsignCms {
  if (der.length > MAX_CMS_BYTES) throw malformed(`CMS signature is larger than ${MAX_CMS_BYTES} bytes`);
  try {
    const [type, explicit] = expectChildren(parseDer(der), TAG.SEQUENCE, 'ContentInfo', 2);
    if (readOid(type, 'contentType') !== OID.signedData) throw malformed('ContentInfo is not SignedData');
    const [signedData] = expectChildren(explicit, 0xa0, 'ContentInfo content', 1);
    const subs = expectChildren(signedData, TAG.SEQUENCE, 'SignedData', 4, 6);
    const version = readSmallInteger(subs[0], 'SignedData version');
    if (version !== 1 && version !== 3) throw malformed(`SignedData version ${version} is not 1 or 3`);
    const digests = children(expectTag(subs[1], TAG.SET, 'digestAlgorithms'));
    if (digests.length !== 1 || algorithm(digests[0], 'digestAlgorithms') !== OID.sha256) {
      throw new GitsignError('CMS_UNSUPPORTED_ALGORITHM', 'digestAlgorithms must be exactly SHA-256');
    }
    const encap = expectChildren(subs[2], TAG.SEQUENCE, 'encapContentInfo', 1, 2);
    if (readOid(encap[0], 'eContentType') !== OID.data) throw malformed('eContentType is not id-data');
    if (encap.length > 1) throw malformed('the signature is not detached (eContent is present)');

    let rest = subs.slice(3);
    let certificates: Buffer[] = [];
    if (rest[0]?.tag === 0xa0) {
      certificates = children(rest[0]).map((c) => rawBytes(expectTag(c, TAG.SEQUENCE, 'certificate')));
      rest = rest.slice(1);
    }
    if (rest[0]?.tag === 0xa1) throw malformed('CRLs are not accepted in a gitsign signature');
    if (rest.length !== 1) throw malformed('unexpected elements in SignedData');
    const signerInfos = children(expectTag(rest[0], TAG.SET, 'signerInfos'));
    if (signerInfos.length === 0) throw malformed('no SignerInfo');
    if (signerInfos.length > 1) throw new GitsignError('CMS_MULTIPLE_SIGNERS', `the signature has ${signerInfos.length} signers; exactly one is accepted`);
    if (certificates.length === 0) throw new GitsignError('CMS_SIGNER_CERT_MISSING', 'the signature carries no certificate');
    const signer = parseSignerInfo(signerInfos[0] as DerNode);
    // RFC 5652 §5.1 fixes the version for this content (no attribute certificates, id-data):
    // 3 with a subjectKeyIdentifier signer, else 1. Accepting both would let the same signature
    // travel in two encodings (two commit ids).
    const expected = signer.signerId.kind === 'subjectKeyId' ? 3 : 1;
    if (version !== expected) throw malformed(`SignedData version ${version} must be ${expected} for this signer identifier`);
    return { certificates, ...signer };
  } catch (err) {
    if (err instanceof DerError) throw malformed(`CMS is not valid DER: ${err.message}`);
    throw err;
  }
}
