import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureError } from '../../src/errors.js';
import { crc24, parseArmor } from '../../src/signatures/armor.js';
import { parseDetachedSignature, readPackets } from '../../src/signatures/openpgp-packets.js';
import type { GeneratedKey, GpgHome } from '../helpers/gpg.js';
import { generateKey, makeGpgHome, signDetached } from '../helpers/gpg.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
  return undefined;
}

/** A new-format packet. */
function packet(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  const header = len < 192 ? [0xc0 | tag, len] : [0xc0 | tag, ((len - 192) >> 8) + 192, (len - 192) & 0xff];
  return Buffer.concat([Buffer.from(header), body]);
}

function subpacket(type: number, data: number[]): number[] {
  return [data.length + 1, type, ...data];
}

const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

/** A v4 RSA signature body with chosen fields (the maths are irrelevant for framing tests). */
function v4Body(o: { type?: number; hash?: number; hashed?: number[]; unhashed?: number[]; mpi?: number[] } = {}): Uint8Array {
  const hashed = o.hashed ?? [...subpacket(2, u32(1700000000)), ...subpacket(33, [4, ...new Array(20).fill(0xab)])];
  const unhashed = o.unhashed ?? subpacket(16, new Array(8).fill(0xab));
  const mpi = o.mpi ?? [0x00, 0x10, 0x12, 0x34];
  return Uint8Array.from([4, o.type ?? 0, 1, o.hash ?? 8, hashed.length >> 8, hashed.length & 0xff, ...hashed, unhashed.length >> 8, unhashed.length & 0xff, ...unhashed, 0xaa, 0xbb, ...mpi]);
}

function armor(data: Uint8Array, opts: { crc?: boolean; headers?: string[] } = {}): string {
  const b64 = Buffer.from(data).toString('base64').match(/.{1,64}/g) as string[];
  const crc = Buffer.from([(crc24(data) >> 16) & 0xff, (crc24(data) >> 8) & 0xff, crc24(data) & 0xff]).toString('base64');
  return ['-----BEGIN PGP SIGNATURE-----', ...(opts.headers ?? []), '', ...b64, ...(opts.crc === false ? [] : [`=${crc}`]), '-----END PGP SIGNATURE-----', ''].join('\n');
}

describe('armor and packets of real gpg signatures', () => {
  let home: GpgHome;
  let key: GeneratedKey;
  let real: string;

  beforeAll(async () => {
    home = await makeGpgHome();
    key = await generateKey(home, { name: 'Armor', email: 'armor@example.invalid' });
    real = await signDetached(home, key.fingerprint, 'payload\n');
  });
  afterAll(() => home?.cleanup());

  it('parses gpg armor (CRC checked) and its single v4 packet', () => {
    const block = parseArmor(real);
    expect(block).toMatchObject({ label: 'PGP SIGNATURE', method: 'openpgp' });
    const sig = parseDetachedSignature(block.data);
    expect(sig).toMatchObject({ version: 4, signatureType: 0, publicKeyAlgorithm: 22, hashAlgorithm: 8, issuerFingerprint: key.fingerprint, issuerKeyId: key.keyId });
    expect(Math.abs(sig.created.getTime() - Date.now())).toBeLessThan(600_000);
  });

  describe('armor framing → MALFORMED_SIGNATURE', () => {
    const lines = (): string[] => real.split('\n');
    const cases: Array<[string, () => string, { allowTrailingEmptyLine?: boolean }?]> = [
      ['trailing space on a line', () => real.replace('\n\n', '\n \n')],
      ['trailing space after END', () => real.replace('-----END PGP SIGNATURE-----', '-----END PGP SIGNATURE----- ')],
      ['text before BEGIN', () => `junk\n${real}`],
      ['text after END', () => `${real}junk\n`],
      ['empty line after END without the commit-header allowance', () => `${real}\n`],
      ['two empty lines after END', () => `${real}\n\n`, { allowTrailingEmptyLine: true }],
      ['missing END', () => lines().filter((l) => !l.startsWith('-----END')).join('\n')],
      ['PGP MESSAGE label', () => real.replace(/PGP SIGNATURE/g, 'PGP MESSAGE')],
      ['mismatched END label', () => real.replace('END PGP SIGNATURE', 'END SSH SIGNATURE')],
      ['CRC altered', () => real.replace(/\n=(.)/, (_m, c: string) => `\n=${c === 'A' ? 'B' : 'A'}`)],
      ['bad base64 character', () => real.replace(/\n\n(.)/, '\n\n*')],
      ['no line feed at the end', () => real.slice(0, -1)],
      ['CRLF', () => real.replace(/\n/g, '\r\n')],
      ['unknown armor header', () => real.replace('-----\n\n', '-----\nX-Evil: 1\n\n')],
      ['no blank line after BEGIN', () => real.replace('-----\n\n', '-----\n')],
      ['empty', () => ''],
      ['two blocks', () => real + real],
    ];
    it.each(cases)('%s', (_name, make, opts) => {
      expect(code(() => parseArmor(make(), opts ?? {}))).toBe('MALFORMED_SIGNATURE');
    });
    it('accepts GitHub’s single empty line after END in commit headers, and RFC 4880 headers', () => {
      expect(parseArmor(`${real}\n`, { allowTrailingEmptyLine: true }).label).toBe('PGP SIGNATURE');
      expect(parseArmor(real.replace('-----\n\n', '-----\nVersion: GnuPG v2\nComment: hi there\n\n')).headers).toEqual([
        ['Version', 'GnuPG v2'],
        ['Comment', 'hi there'],
      ]);
      expect(parseArmor(lines().filter((l) => !/^=/.test(l)).join('\n')).hasChecksum).toBe(false);
    });
    it('recognises SSH and X.509 labels for routing', () => {
      expect(parseArmor('-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n').method).toBe('ssh');
      expect(parseArmor('-----BEGIN SIGNED MESSAGE-----\nMIIB\n-----END SIGNED MESSAGE-----\n').method).toBe('gitsign');
    });
  });

  describe('packets', () => {
    it('reads a synthetic v4 signature with issuer fingerprint and key id', () => {
      const sig = parseDetachedSignature(packet(2, v4Body()));
      expect(sig).toMatchObject({ version: 4, issuerFingerprint: 'AB'.repeat(20), issuerKeyId: 'AB'.repeat(8), created: new Date(1700000000 * 1000) });
      expect(Buffer.from(parseArmor(armor(packet(2, v4Body()))).data).equals(packet(2, v4Body()))).toBe(true);
    });

    const real4 = (): Uint8Array => parseArmor(real).data;
    const cases: Array<[string, () => Uint8Array, string]> = [
      ['v3 signature packet', () => packet(2, Uint8Array.from([3, 5, 0, ...u32(1120000000), ...new Array(8).fill(1), 17, 2, 0xaa, 0xbb, 0, 8, 1, 0, 8, 1])), 'LEGACY_SIGNATURE'],
      ['two signature packets', () => Buffer.concat([real4(), real4()]), 'MULTIPLE_SIGNATURES'],
      ['a marker packet before the signature', () => Buffer.concat([packet(10, Buffer.from('PGP')), real4()]), 'MALFORMED_SIGNATURE'],
      ['a literal data packet (not detached)', () => packet(11, Buffer.from('b\0\0\0\0\0hello')), 'MALFORMED_SIGNATURE'],
      ['truncated packet', () => real4().subarray(0, real4().length - 3), 'MALFORMED_SIGNATURE'],
      ['trailing byte in the packet', () => packet(2, Buffer.concat([v4Body(), Buffer.from([0])])), 'MALFORMED_SIGNATURE'],
      ['text-mode signature (type 0x01)', () => packet(2, v4Body({ type: 1 })), 'MALFORMED_SIGNATURE'],
      ['no hashed creation time', () => packet(2, v4Body({ hashed: subpacket(33, [4, ...new Array(20).fill(0xab)]), unhashed: subpacket(2, u32(1)) })), 'MALFORMED_SIGNATURE'],
      ['two creation times', () => packet(2, v4Body({ hashed: [...subpacket(2, u32(1)), ...subpacket(2, u32(2)), ...subpacket(16, new Array(8).fill(1))] })), 'MALFORMED_SIGNATURE'],
      ['no issuer', () => packet(2, v4Body({ hashed: subpacket(2, u32(1)), unhashed: [] })), 'MALFORMED_SIGNATURE'],
      ['issuer key id contradicts fingerprint', () => packet(2, v4Body({ unhashed: subpacket(16, new Array(8).fill(0xcd)) })), 'MALFORMED_SIGNATURE'],
      ['unknown hash algorithm', () => packet(2, v4Body({ hash: 99 })), 'MALFORMED_SIGNATURE'],
      ['v5 packet', () => packet(2, Uint8Array.from([5, ...v4Body().subarray(1)])), 'MALFORMED_SIGNATURE'],
      ['high bit clear', () => Uint8Array.from([0x02, 0x00]), 'MALFORMED_SIGNATURE'],
      ['empty', () => new Uint8Array(0), 'MALFORMED_SIGNATURE'],
    ];
    it.each(cases)('%s → %s', (_name, make, expected) => {
      expect(code(() => parseDetachedSignature(make()))).toBe(expected);
    });

    it('splits old- and new-format packet headers', () => {
      expect(readPackets(Uint8Array.from([0x88, 0x01, 0x04, 0xc2, 0x01, 0x05]))).toEqual([
        { tag: 2, body: Uint8Array.from([4]) },
        { tag: 2, body: Uint8Array.from([5]) },
      ]);
    });
  });
});
