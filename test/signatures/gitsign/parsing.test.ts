/** Strict DER, protobuf TransparencyLogEntry and trust-config parsing for gitsign. */
import { describe, expect, it } from 'vitest';
import { trustRuleSchema } from '../../../src/config/trust.js';
import { DerError, parseDer, readOid } from '../../../src/signatures/gitsign/der.js';
import { decodeTlogEntry } from '../../../src/signatures/gitsign/tlog-entry.js';
import { parseGitsignCms } from '../../../src/signatures/gitsign/cms.js';
import { oid } from '../../helpers/gitsign.js';

describe('DER reader', () => {
  it('refuses non-DER encodings and trailing data', () => {
    expect(() => parseDer(Buffer.from([0x30, 0x80, 0x00, 0x00]))).toThrow(DerError); // indefinite length
    expect(() => parseDer(Buffer.from([0x04, 0x81, 0x01, 0x00]))).toThrow(/non-minimal/); // long form for 1
    expect(() => parseDer(Buffer.from([0x04, 0x01, 0x00, 0x00]))).toThrow(/trailing/);
    expect(() => parseDer(Buffer.from([0x1f, 0x81, 0x01, 0x00]))).toThrow(/high tag/);
    expect(() => parseDer(Buffer.from([0x30, 0x03, 0x04, 0x05, 0x00]))).toThrow(/past its container/);
  });

  it('reads OIDs, including arcs beyond 32 bits, and refuses non-minimal arcs', () => {
    expect(readOid(parseDer(oid('1.3.6.1.4.1.57264.3.1')), 'x')).toBe('1.3.6.1.4.1.57264.3.1');
    expect(readOid(parseDer(oid('2.999.4294967297')), 'x')).toBe('2.999.4294967297');
    expect(() => readOid(parseDer(Buffer.from([0x06, 0x03, 0x2b, 0x80, 0x01])), 'x')).toThrow(/non-minimal/);
  });

  it('bounds nesting depth', () => {
    expect(() => parseDer(Buffer.from([0x30, 0x00]))).not.toThrow();
    let nested = Buffer.from([0x05, 0x00]);
    for (let i = 0; i < 40; i++) {
      const len = nested.length < 128 ? Buffer.from([nested.length]) : Buffer.from([0x81, nested.length]);
      nested = Buffer.concat([Buffer.from([0x30]), len, nested]);
    }
    expect(() => parseDer(nested)).toThrow(/too deep/);
  });
});

describe('CMS parsing', () => {
  it('refuses what is not a gitsign SignedData with CMS_MALFORMED', () => {
    expect(() => parseGitsignCms(Buffer.from([0x30, 0x00]))).toThrow(expect.objectContaining({ code: 'CMS_MALFORMED' }));
    expect(() => parseGitsignCms(Buffer.alloc(70_000))).toThrow(expect.objectContaining({ code: 'CMS_MALFORMED' }));
  });
});

describe('TransparencyLogEntry protobuf', () => {
  const key = (field: number, wire: number) => Buffer.from([(field << 3) | wire]);
  it('refuses unknown fields, repeated singular fields, wrong wire types and negative integers', () => {
    expect(() => decodeTlogEntry(Buffer.concat([key(9, 0), Buffer.from([1])]))).toThrow(expect.objectContaining({ code: 'REKOR_ENTRY_MALFORMED' }));
    expect(() => decodeTlogEntry(Buffer.concat([key(1, 0), Buffer.from([1]), key(1, 0), Buffer.from([2])]))).toThrow(/twice/);
    expect(() => decodeTlogEntry(Buffer.concat([key(1, 2), Buffer.from([0])]))).toThrow(/wire type/);
    const negative = Buffer.concat([key(1, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]);
    expect(() => decodeTlogEntry(negative)).toThrow(/negative/);
    expect(() => decodeTlogEntry(Buffer.concat([key(2, 2), Buffer.from([5, 1])]))).toThrow(/past the end/);
  });
});

describe('trust rules: gitsign identities', () => {
  const rule = (gitsign: unknown) => trustRuleSchema.safeParse({ repositories: ['**'], gitsign });
  it('needs exactly one of subject or subjectRegex, and a regex that compiles', () => {
    expect(rule({ identities: [{ issuer: 'https://i', subject: 'a@b' }] }).success).toBe(true);
    expect(rule({ identities: [{ issuer: 'https://i', subjectRegex: '.*@b\\.com' }] }).data?.gitsign).toEqual({ identities: [{ issuer: 'https://i', subjectRegex: '.*@b\\.com' }], requireCommitterMatch: false });
    expect(rule({ identities: [{ issuer: 'https://i', subject: 'a@b', subjectRegex: 'a' }] }).success).toBe(false);
    expect(rule({ identities: [{ issuer: 'https://i' }] }).success).toBe(false);
    expect(rule({ identities: [{ issuer: 'https://i', subjectRegex: '(' }] }).success).toBe(false);
    expect(rule({ identities: [{ subject: 'a@b' }] }).success).toBe(false);
  });
});
