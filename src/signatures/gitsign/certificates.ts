/**
 * The certificates of a gitsign CMS: find the signer's (by issuer+serial or subject key id), refuse
 * extra certificates that do not chain, and read the Fulcio identity (SAN, OIDC issuer) strictly.
 * Embedded certificates are never anchors: the chain is built from the trusted root only
 * (@sigstore/verify); an extra certificate is accepted only as a signature-linked step up from the
 * signer that the trusted root also holds.
 */
import { createHash } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import type { GitsignCms } from './cms.js';
import type { DerNode } from './der.js';
import { DerError, TAG, children, contentBytes, expectTag, parseDer, readOid } from './der.js';
import { GitsignError } from './errors.js';

const OID_EKU = '2.5.29.37';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

export interface SignerCertificate {
  cert: X509Certificate;
  der: Buffer;
}

function parseCert(der: Buffer, index: number): X509Certificate {
  try {
    return X509Certificate.parse(der as Buffer<ArrayBuffer>);
  } catch (err) {
    throw new GitsignError('CMS_MALFORMED', `embedded certificate ${index} cannot be parsed (${(err as Error).message})`);
  }
}

function matchesSigner(cert: X509Certificate, cms: GitsignCms): boolean {
  const sid = cms.signerId;
  if (sid.kind === 'subjectKeyId') {
    const ski = cert.extSubjectKeyID?.keyIdentifier;
    return ski !== undefined && ski.equals(sid.keyId);
  }
  return cert.issuer.equals(sid.issuer) && cert.serialNumber.equals(sid.serial);
}

/** The signer certificate, after checking that every other embedded certificate chains. */
export function signerCertificate(cms: GitsignCms, trustedCaCertificates: readonly Buffer[]): SignerCertificate {
  const parsed = cms.certificates.map((der, i) => ({ der, cert: parseCert(der, i) }));
  const signers = parsed.filter((p) => matchesSigner(p.cert, cms));
  if (signers.length !== 1) {
    throw new GitsignError('CMS_SIGNER_CERT_MISSING', signers.length === 0 ? 'no embedded certificate matches the signer identifier' : 'several embedded certificates match the signer identifier');
  }
  const leaf = signers[0] as SignerCertificate;
  let remaining = parsed.filter((p) => p !== leaf);
  let current = leaf.cert;
  while (remaining.length > 0) {
    const next = remaining.find((p) => p.cert.subject.equals(current.issuer) && safeVerify(current, p.cert));
    if (!next) throw new GitsignError('CMS_EXTRA_CERT_UNCHAINED', `${remaining.length} embedded certificate(s) do not chain from the signer certificate`);
    if (!trustedCaCertificates.some((t) => t.equals(next.der))) {
      throw new GitsignError('CMS_EXTRA_CERT_UNCHAINED', 'an embedded CA certificate is not in the trusted root');
    }
    current = next.cert;
    remaining = remaining.filter((p) => p !== next);
  }
  return leaf;
}

function safeVerify(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer);
  } catch {
    return false;
  }
}

/** A Fulcio leaf: not a CA, digitalSignature, and the codeSigning extended key usage. */
export function checkLeafUsage(cert: X509Certificate): void {
  const fail = (why: string) => new GitsignError('CERT_CHAIN_INVALID', `signer certificate ${why}`);
  if (cert.isCA) throw fail('is a CA certificate');
  if (!cert.extKeyUsage?.digitalSignature) throw fail('lacks the digitalSignature key usage');
  const eku = cert.extension(OID_EKU);
  let usages: string[];
  try {
    usages = eku ? children(parseDer(eku.value)).map((n) => readOid(n, 'extended key usage')) : [];
  } catch {
    throw fail('has a malformed extended key usage');
  }
  if (!usages.includes(OID_CODE_SIGNING)) throw fail('lacks the codeSigning extended key usage');
}

export interface FulcioIdentity {
  issuer: string;
  subject: string;
  subjectType: 'email' | 'uri';
}

function identityError(message: string): GitsignError {
  return new GitsignError('IDENTITY_NOT_ALLOWED', message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** SAN (exactly one email or URI) and OIDC issuer (1.8, else 1.1; they must agree when both exist). */
export function fulcioIdentity(cert: X509Certificate): FulcioIdentity {
  const san = cert.extSubjectAltName;
  if (!san) throw identityError('signer certificate has no subject alternative name');
  let names: DerNode[];
  try {
    names = children(parseDer(san.value));
  } catch {
    throw identityError('signer certificate has a malformed subject alternative name');
  }
  const usable = names.filter((n) => n.tag === 0x81 || n.tag === 0x86);
  if (usable.length !== 1) throw identityError(`signer certificate has ${usable.length} email/URI names; exactly one is required`);
  const name = usable[0] as DerNode;
  const subject = contentBytes(name).toString('latin1');
  if (!/^[\x21-\x7e]+$/.test(subject)) throw identityError('signer certificate SAN is not printable ASCII');

  let v2: string | undefined;
  let v1: string | undefined;
  try {
    const ext2 = cert.extension(OID_ISSUER_V2);
    if (ext2) v2 = utf8.decode(contentBytes(expectTag(parseDer(ext2.value), TAG.UTF8_STRING, 'issuer')));
    const ext1 = cert.extension(OID_ISSUER_V1);
    if (ext1) v1 = utf8.decode(ext1.value);
  } catch (err) {
    throw identityError(`signer certificate has a malformed OIDC issuer extension${err instanceof DerError ? ` (${err.message})` : ''}`);
  }
  if (v1 !== undefined && v2 !== undefined && v1 !== v2) throw identityError('the OIDC issuer extensions 1.1 and 1.8 disagree');
  const issuer = v2 ?? v1;
  if (!issuer) throw identityError('signer certificate has no OIDC issuer extension');
  return { issuer, subject, subjectType: name.tag === 0x81 ? 'email' : 'uri' };
}

export function certificateFingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
