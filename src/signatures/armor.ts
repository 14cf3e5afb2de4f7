/**
 * Strict ASCII armor parsing for signatures embedded in git objects: exactly one canonical block,
 * nothing before BEGIN or after END, no trailing whitespace, strict base64, CRC-24 checked when
 * present. Every failure is a SignatureError MALFORMED_SIGNATURE.
 */
import { SignatureError } from '../errors.js';
import type { SignatureMethod } from './types.js';

export type ArmorLabel = 'PGP SIGNATURE' | 'SSH SIGNATURE' | 'SIGNED MESSAGE';

/** Which verifier handles a block with this label. */
export const ARMOR_METHODS: Record<ArmorLabel, SignatureMethod> = {
  'PGP SIGNATURE': 'openpgp',
  'SSH SIGNATURE': 'ssh',
  'SIGNED MESSAGE': 'gitsign',
};

export interface ArmorBlock {
  label: ArmorLabel;
  method: SignatureMethod;
  /** RFC 4880 armor headers (OpenPGP only), in order. */
  headers: Array<[string, string]>;
  data: Uint8Array;
  /** Whether a CRC-24 line was present (it was then checked). */
  hasChecksum: boolean;
}

export interface ArmorOptions {
  /** Accept one empty line after END (GitHub writes one in commit signature headers). */
  allowTrailingEmptyLine?: boolean;
}

const LABELS = Object.keys(ARMOR_METHODS) as ArmorLabel[];
const ARMOR_HEADER_KEYS = new Set(['Version', 'Comment', 'MessageID', 'Hash', 'Charset']);
const MAX_LINE = 76;
const SSH_LINE = 70;

function malformed(message: string): SignatureError {
  return new SignatureError('MALFORMED_SIGNATURE', message);
}

/** CRC-24 as defined by RFC 4880 §6.1. */
export function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** Strict base64: canonical padding and encoding, so one byte string has one text form. */
export function decodeBase64Strict(text: string): Uint8Array {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw malformed('armor body is not valid base64');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw malformed('armor body is not canonical base64');
  return new Uint8Array(bytes);
}

/** The label of a BEGIN line, or undefined when it is not a recognised signature label. */
export function beginLabel(line: string): ArmorLabel | undefined {
  return LABELS.find((l) => line === `-----BEGIN ${l}-----`);
}

export function parseArmor(text: string, options: ArmorOptions = {}): ArmorBlock {
  if (text.length === 0) throw malformed('signature is empty');
  if (!/^[\x20-\x7e\n]*$/.test(text)) throw malformed('signature contains characters other than printable ASCII and line feeds');
  if (!text.endsWith('\n')) throw malformed('signature does not end with a line feed');
  const lines = text.slice(0, -1).split('\n');
  if (options.allowTrailingEmptyLine && lines.length > 1 && lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    if (/[ ]$/.test(line)) throw malformed(`armor line ${i + 1} has trailing whitespace`);
  });

  const first = lines[0] as string;
  const label = beginLabel(first);
  if (!label) {
    throw malformed(first.startsWith('-----BEGIN ') ? `armor label "${first}" is not accepted` : 'signature does not start with an armor BEGIN line');
  }
  const last = lines.at(-1) as string;
  const endLine = `-----END ${label}-----`;
  if (lines.length < 3 || last !== endLine) {
    throw malformed(lines.includes(endLine) ? 'text after the armor END line' : 'armor END line is missing or does not match the BEGIN label');
  }

  let i = 1;
  const headers: Array<[string, string]> = [];
  if (label === 'PGP SIGNATURE') {
    for (; i < lines.length - 1 && lines[i] !== ''; i++) {
      const m = /^([A-Za-z]+): (\S.*)$/.exec(lines[i] as string);
      if (!m || !ARMOR_HEADER_KEYS.has(m[1] as string)) throw malformed(`armor line ${i + 1} is not an RFC 4880 armor header`);
      headers.push([m[1] as string, m[2] as string]);
    }
    if (lines[i] !== '') throw malformed('armor headers are not followed by a blank line');
    i++;
  }

  const body = lines.slice(i, -1);
  let hasChecksum = false;
  let checksum: string | undefined;
  if (label === 'PGP SIGNATURE' && body.at(-1)?.startsWith('=')) {
    checksum = body.pop() as string;
    hasChecksum = true;
    if (!/^=[A-Za-z0-9+/]{4}$/.test(checksum)) throw malformed('armor checksum line is not valid');
  }
  if (body.length === 0) throw malformed('armor body is empty');
  body.forEach((line, j) => {
    if (line.length === 0 || line.length > MAX_LINE || !/^[A-Za-z0-9+/=]+$/.test(line)) throw malformed(`armor body line ${i + j + 1} is not a base64 line`);
  });
  if (label === 'SSH SIGNATURE') {
    // ssh-keygen's armor is the only form: 70 columns, last line 1-70 (one signature, one text).
    body.forEach((line, j) => {
      if (j < body.length - 1 ? line.length !== SSH_LINE : line.length > SSH_LINE) throw malformed(`SSH armor body line ${i + j + 1} is not wrapped at ${SSH_LINE} columns as ssh-keygen writes it`);
    });
  }
  const data = decodeBase64Strict(body.join(''));
  if (checksum !== undefined) {
    const expected = Buffer.from(checksum.slice(1), 'base64');
    const actual = crc24(data);
    if (expected.readUIntBE(0, 3) !== actual) throw malformed('armor CRC-24 checksum does not match');
  }
  return { label, method: ARMOR_METHODS[label], headers, data, hasChecksum };
}
