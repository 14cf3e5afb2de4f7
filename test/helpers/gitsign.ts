/**
 * gitsign-format fixtures made at test time: a test Fulcio (root + intermediate CA, certificates
 * built here with a small DER encoder so email SANs, validity windows, extra certificates and
 * missing extensions can be chosen), a test CT log (SCTs signed here per RFC 6962), and a test
 * Rekor: @sigstore/mock's TLog, deep-imported (the package root pulls in nock, which patches
 * http globally; specs/gitsign.md §5.3). Signatures are CMS SignedData exactly as gitsign writes
 * them, with the Rekor entry as a protobuf TransparencyLogEntry under 57264.3.1 (offline mode).
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { initializeTLog } from '@sigstore/mock/dist/rekor/tlog.js';
import { hashedrekordBody } from '../../src/signatures/gitsign/hashedrekord.js';
import { toTlogEntry } from '../../src/signatures/gitsign/rekor-client.js';
import type { TlogEntryJson } from '../../src/signatures/gitsign/tlog-entry.js';

// ---------- DER encoding ----------
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
export const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
};
export const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
/** DER SET OF: elements sorted by encoding. */
export const setOf = (...c: Buffer[]): Buffer => tlv(0x31, ...[...c].sort(Buffer.compare));
export const octets = (b: Buffer): Buffer => tlv(0x04, b);
export const utf8 = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const bool = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0]));
export const nul = (): Buffer => Buffer.from([0x05, 0x00]);
export function int(v: number | bigint | Buffer): Buffer {
  let hex = Buffer.isBuffer(v) ? '' : BigInt(v).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.isBuffer(v) ? v : Buffer.from(hex, 'hex');
  if ((b[0] as number) & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(BigInt);
  const out: number[] = [];
  const enc = (v: bigint) => {
    const bytes = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) bytes.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...bytes);
  };
  enc((arcs[0] as bigint) * 40n + (arcs[1] as bigint));
  arcs.slice(2).forEach(enc);
  return tlv(0x06, Buffer.from(out));
}
function time(d: Date): Buffer {
  const s = d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(s, 'latin1'));
}
const bitString = (b: Buffer): Buffer => tlv(0x03, Buffer.from([0]), b);
const name = (cn: string): Buffer => seq(setOf(seq(oid('2.5.4.10'), utf8('sigstore.test'))), setOf(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer): Buffer => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

export const OIDS = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rekorEntry: '1.3.6.1.4.1.57264.3.1',
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  sct: '1.3.6.1.4.1.11129.2.4.2',
};

// ---------- keys and certificates ----------
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}
export const ecKey = (): KeyPair => generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const spki = (k: KeyObject): Buffer => k.export({ format: 'der', type: 'spki' });
const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();
const keyId = (k: KeyObject): Buffer => createHash('sha1').update(spki(k).subarray(-65)).digest();

export interface CertSpec {
  subject: string;
  issuer: { name: string; key: KeyPair };
  key: KeyPair;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
  ca?: boolean;
  /** Leaf only: SAN and OIDC issuer. */
  email?: string;
  uri?: string;
  oidcIssuer?: string;
  oidcIssuerV1?: string;
  codeSigning?: boolean;
  /** Embed an SCT from this CT log (leaf only). */
  ct?: CtLog;
}

function tbs(spec: CertSpec, extraExtensions: Buffer[] = []): Buffer {
  const exts: Buffer[] = [];
  if (spec.ca) {
    exts.push(ext('2.5.29.15', true, bitString(Buffer.from([0x06]))), ext('2.5.29.19', true, seq(bool(true))));
  } else {
    exts.push(ext('2.5.29.15', true, tlv(0x03, Buffer.from([7, 0x80]))));
    if (spec.codeSigning !== false) exts.push(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.3'))));
  }
  exts.push(ext('2.5.29.14', false, octets(keyId(spec.key.publicKey))));
  exts.push(ext('2.5.29.35', false, seq(tlv(0x80, keyId(spec.issuer.key.publicKey)))));
  if (spec.email || spec.uri) {
    const names = [...(spec.email ? [tlv(0x81, Buffer.from(spec.email))] : []), ...(spec.uri ? [tlv(0x86, Buffer.from(spec.uri))] : [])];
    exts.push(ext('2.5.29.17', true, seq(...names)));
  }
  if (spec.oidcIssuerV1) exts.push(ext(OIDS.issuerV1, false, Buffer.from(spec.oidcIssuerV1)));
  if (spec.oidcIssuer) exts.push(ext(OIDS.issuerV2, false, utf8(spec.oidcIssuer)));
  exts.push(...extraExtensions);
  return seq(
    tlv(0xa0, int(2)),
    int(spec.serial),
    seq(oid(OIDS.ecdsaSha256)),
    name(spec.issuer.name),
    seq(time(spec.notBefore), time(spec.notAfter)),
    spec.ca ? name(spec.subject) : seq(),
    spki(spec.key.publicKey),
    tlv(0xa3, seq(...exts)),
  );
}

export function makeCert(spec: CertSpec, issuerCertDer?: Buffer): Buffer {
  const extra: Buffer[] = [];
  if (spec.ct) {
    const issuerSpki = issuerCertDer ? spkiOfCert(issuerCertDer) : spki(spec.issuer.key.publicKey);
    const sct = spec.ct.sct(tbs(spec), issuerSpki);
    const list = Buffer.concat([u16(sct.length + 2), u16(sct.length), sct]);
    extra.push(ext(OIDS.sct, false, octets(list)));
  }
  const body = tbs(spec, extra);
  return seq(body, seq(oid(OIDS.ecdsaSha256)), bitString(sign('sha256', body, spec.issuer.key.privateKey)));
}

function spkiOfCert(der: Buffer): Buffer {
  // tbs: [0] version, serial, alg, issuer, validity, subject, SPKI
  const read = (b: Buffer, p: number) => {
    let l = b[p + 1] as number;
    let h = 2;
    if (l & 0x80) {
      const n = l & 0x7f;
      l = 0;
      for (let i = 0; i < n; i++) l = l * 256 + (b[p + 2 + i] as number);
      h += n;
    }
    return { start: p, content: p + h, end: p + h + l };
  };
  const cert = read(der, 0);
  const t = read(der, cert.content);
  let pos = t.content;
  for (let i = 0; i < 6; i++) pos = read(der, pos).end;
  const s = read(der, pos);
  return der.subarray(s.start, s.end);
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);

// ---------- CT log ----------
export class CtLog {
  readonly key = ecKey();
  constructor(readonly clock: Date) {}
  get logId(): Buffer {
    return sha256(spki(this.key.publicKey));
  }
  /** RFC 6962 v1 SCT over the precertificate TBS (the final TBS without the SCT extension). */
  sct(precertTbs: Buffer, issuerSpki: Buffer): Buffer {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(this.clock.getTime()));
    const tbsLen = Buffer.from([precertTbs.length >> 16, (precertTbs.length >> 8) & 0xff, precertTbs.length & 0xff]);
    const signed = Buffer.concat([Buffer.from([0, 0]), ts, u16(1), sha256(issuerSpki), tbsLen, precertTbs, u16(0)]);
    const sig = sign('sha256', signed, this.key.privateKey);
    return Buffer.concat([Buffer.from([0]), this.logId, ts, u16(0), Buffer.from([4, 3]), u16(sig.length), sig]);
  }
}

// ---------- Rekor (mock TLog) ----------
export const REKOR_URL = 'https://rekor.sigstore.test';

export class TestRekor {
  readonly key = ecKey();
  /** A Rekor v1 API LogEntry map {uuid: entry} for this hashedrekord body, logged at `when`. */
  async log(body: Buffer, when: Date): Promise<Record<string, unknown>> {
    const tlog = await initializeTLog(REKOR_URL, this.key, when);
    return (await tlog.log(JSON.parse(body.toString('utf8')))) as Record<string, unknown>;
  }
  get logId(): Buffer {
    return sha256(spki(this.key.publicKey));
  }
}

// ---------- protobuf TransparencyLogEntry ----------
function varint(v: bigint | number): Buffer {
  let n = BigInt(v);
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return Buffer.from(out);
}
const pbLen = (field: number, b: Buffer): Buffer => Buffer.concat([varint((field << 3) | 2), varint(b.length), b]);
const pbInt = (field: number, v: string): Buffer => (v === '0' ? Buffer.alloc(0) : Buffer.concat([varint(field << 3), varint(BigInt(v))]));

/** Encodes a bundle tlogEntry as gitsign stores it (canonicalized_body cleared unless kept). */
export function encodeTlogEntry(e: TlogEntryJson, keepBody = false): Buffer {
  const b = (s: string) => Buffer.from(s, 'base64');
  const parts = [
    pbInt(1, e.logIndex),
    pbLen(2, pbLen(1, b(e.logId.keyId))),
    pbLen(3, Buffer.concat([pbLen(1, Buffer.from(e.kindVersion.kind)), pbLen(2, Buffer.from(e.kindVersion.version))])),
    pbInt(4, e.integratedTime),
  ];
  if (e.inclusionPromise) parts.push(pbLen(5, pbLen(1, b(e.inclusionPromise.signedEntryTimestamp))));
  if (e.inclusionProof) {
    const p = e.inclusionProof;
    parts.push(pbLen(6, Buffer.concat([pbInt(1, p.logIndex), pbLen(2, b(p.rootHash)), pbInt(3, p.treeSize), ...p.hashes.map((h) => pbLen(4, b(h))), pbLen(5, pbLen(1, Buffer.from(p.checkpoint.envelope)))])));
  }
  if (keepBody && e.canonicalizedBody) parts.push(pbLen(7, b(e.canonicalizedBody)));
  return Buffer.concat(parts);
}

// ---------- the test Sigstore instance ----------
export const T0 = new Date('2026-06-01T12:00:00Z');
export const NOW = new Date('2026-11-21T00:00:00Z');

export class TestSigstore {
  readonly rootKey = ecKey();
  readonly intermediateKey = ecKey();
  readonly ct = new CtLog(T0);
  readonly rekor = new TestRekor();
  readonly rootCert: Buffer;
  readonly intermediateCert: Buffer;
  private serial = 1000n;

  constructor() {
    const validity = { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2040-01-01T00:00:00Z') };
    this.rootCert = makeCert({ subject: 'test-root', issuer: { name: 'test-root', key: this.rootKey }, key: this.rootKey, serial: 1n, ca: true, ...validity });
    this.intermediateCert = makeCert({ subject: 'test-intermediate', issuer: { name: 'test-root', key: this.rootKey }, key: this.intermediateKey, serial: 2n, ca: true, ...validity });
  }

  /** trusted_root.json for this instance; `omit` drops parts to make a broken root. */
  trustedRoot(omit: { tlogs?: boolean; ctlogs?: boolean; tlogStart?: boolean; otherRekor?: KeyObject } = {}): Buffer {
    const log = (url: string, key: KeyObject, start = true) => ({
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki(key).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: start ? { start: '2020-01-01T00:00:00Z' } : {} },
      logId: { keyId: sha256(spki(key)).toString('base64') },
    });
    const root = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: omit.tlogs ? [] : [log(REKOR_URL, omit.otherRekor ?? this.rekor.key.publicKey, !omit.tlogStart)],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.test', commonName: 'test-intermediate' },
          uri: 'https://fulcio.sigstore.test',
          certChain: { certificates: [{ rawBytes: this.intermediateCert.toString('base64') }, { rawBytes: this.rootCert.toString('base64') }] },
          validFor: { start: '2020-01-01T00:00:00Z' },
        },
      ],
      ctlogs: omit.ctlogs ? [] : [log('https://ct.sigstore.test', this.ct.key.publicKey)],
      timestampAuthorities: [],
    };
    return Buffer.from(JSON.stringify(root, null, 2));
  }

  /** A Fulcio-like leaf (10 minutes from `notBefore`), issued by the intermediate. */
  leaf(opts: Partial<CertSpec> & { notBefore?: Date } = {}): { der: Buffer; key: KeyPair } {
    const key = opts.key ?? ecKey();
    const notBefore = opts.notBefore ?? T0;
    const spec: CertSpec = {
      subject: '',
      issuer: { name: 'test-intermediate', key: this.intermediateKey },
      key,
      serial: this.serial++,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 10 * 60_000),
      email: 'alice@example.com',
      oidcIssuer: 'https://accounts.example.com',
      oidcIssuerV1: 'https://accounts.example.com',
      ct: this.ct,
      ...opts,
    };
    return { der: makeCert(spec, this.intermediateCert), key };
  }
}

// ---------- CMS ----------
export interface SignOptions {
  leaf: { der: Buffer; key: KeyPair };
  /** Extra certificates in the CMS (after the leaf). */
  extraCerts?: Buffer[];
  /** Where the Rekor entry comes from: logged now (default), none, or given. */
  rekor?: { sigstore: TestSigstore; when?: Date; mutate?: (e: TlogEntryJson) => void; keepBody?: Buffer } | 'none' | { rawAttribute: Buffer };
  /** Content the messageDigest is over (default: the payload). */
  digestOf?: Buffer;
  signingTime?: Date;
  /** Sign with another key (bad signature). */
  signingKey?: KeyObject;
  /** Add a second SignerInfo. */
  twoSigners?: boolean;
  /** Unsorted signed attributes (not DER). */
  unsortedAttributes?: boolean;
  digestAlgorithm?: string;
}

function signedAttributes(digest: Buffer, when: Date, unsorted = false): Buffer {
  const attrs = [seq(oid(OIDS.contentType), setOf(oid(OIDS.data))), seq(oid(OIDS.signingTime), setOf(time(when))), seq(oid(OIDS.messageDigest), setOf(octets(digest)))];
  return unsorted ? tlv(0x31, ...[...attrs].sort(Buffer.compare).reverse()) : setOf(...attrs);
}

/** Issuer Name and serial of a certificate we made (we know the layout). */
function issuerAndSerial(certDer: Buffer, issuerName: string, serial: Buffer): Buffer {
  void certDer;
  return seq(name(issuerName), tlv(0x02, serial));
}

export function serialOf(certDer: Buffer): Buffer {
  // cert SEQ > tbs SEQ > [0] version, INTEGER serial
  const tbsStart = certDer[1]! & 0x80 ? 2 + (certDer[1]! & 0x7f) : 2;
  const tbsHeader = certDer[tbsStart + 1]! & 0x80 ? 2 + (certDer[tbsStart + 1]! & 0x7f) : 2;
  let p = tbsStart + tbsHeader;
  p += 2 + certDer[p + 1]!; // [0] version
  return certDer.subarray(p + 2, p + 2 + certDer[p + 1]!);
}

/** Makes a gitsign CMS signature over `payload`, with its Rekor entry (offline mode). */
export async function signGitsign(payload: Buffer, opts: SignOptions): Promise<Buffer> {
  const when = opts.signingTime ?? T0;
  const digest = createHash(opts.digestAlgorithm === 'sha1' ? 'sha1' : 'sha256').update(opts.digestOf ?? payload).digest();
  const sa = signedAttributes(digest, when, opts.unsortedAttributes);
  const signature = sign('sha256', sa, opts.signingKey ?? opts.leaf.key.privateKey);
  const unsigned: Buffer[] = [];
  const rekor = opts.rekor ?? 'none';
  if (rekor !== 'none' && 'rawAttribute' in rekor) {
    unsigned.push(rekor.rawAttribute);
  } else if (rekor !== 'none') {
    const body = rekor.keepBody ?? hashedrekordBody(sha256(sa), signature, opts.leaf.der);
    const map = await rekor.sigstore.rekor.log(body, rekor.when ?? new Date(T0.getTime() + 60_000));
    const entry = toTlogEntry(Object.values(map)[0] as never);
    rekor.mutate?.(entry);
    unsigned.push(seq(oid(OIDS.rekorEntry), setOf(octets(encodeTlogEntry(entry, rekor.keepBody !== undefined)))));
  }
  const digestAlg = seq(oid(opts.digestAlgorithm === 'sha1' ? '1.3.14.3.2.26' : OIDS.sha256));
  const signerInfo = seq(
    int(1),
    issuerAndSerial(opts.leaf.der, 'test-intermediate', serialOf(opts.leaf.der)),
    digestAlg,
    Buffer.concat([Buffer.from([0xa0]), sa.subarray(1)]),
    seq(oid(OIDS.ecdsaSha256)),
    octets(signature),
    ...(unsigned.length ? [tlv(0xa1, ...unsigned)] : []),
  );
  const signerInfos = opts.twoSigners ? setOf(signerInfo, Buffer.concat([signerInfo.subarray(0, -1), Buffer.from([signerInfo.at(-1)! ^ 1])])) : setOf(signerInfo);
  const signedData = seq(int(1), setOf(digestAlg), seq(oid(OIDS.data)), tlv(0xa0, opts.leaf.der, ...(opts.extraCerts ?? [])), signerInfos);
  return seq(oid(OIDS.signedData), tlv(0xa0, signedData));
}

// ---------- commits ----------
export const COMMITTER = { name: 'Alice', email: 'alice@example.com' };

/** The unsigned commit payload (what gitsign signs). */
export function commitPayload(message = 'test commit\n', committerEmail = COMMITTER.email): Buffer {
  const who = (email: string) => `${COMMITTER.name} <${email}> 1780315200 +0000`;
  return Buffer.from(`tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor ${who(COMMITTER.email)}\ncommitter ${who(committerEmail)}\n\n${message}`);
}

/** The signed commit object: the gpgsig header goes after the committer line. */
export function signedCommit(payload: Buffer, cms: Buffer): Buffer {
  const b64 = cms.toString('base64').match(/.{1,64}/g) ?? [];
  const armor = ['-----BEGIN SIGNED MESSAGE-----', ...b64, '-----END SIGNED MESSAGE-----'].join('\n ');
  const text = payload.toString('latin1');
  const end = text.indexOf('\n\n');
  return Buffer.from(`${text.slice(0, end)}\ngpgsig ${armor}${text.slice(end)}`, 'latin1');
}
