/**
 * Strict reader for the SSH wire encoding (RFC 4251 §5): uint32, uint64, string, mpint. Every
 * read is bounds-checked; `end()` insists that nothing is left over. Failures throw SshFormatError,
 * which callers map to MALFORMED_SIGNATURE (signatures) or a ConfigError (trust files).
 */

export class SshFormatError extends Error {}

export class SshReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) throw new SshFormatError(`${this.what}: truncated ${field}`);
  }

  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  byte(field: string): number {
    return this.bytes(1, field)[0] as number;
  }

  uint32(field: string): number {
    return this.bytes(4, field).readUInt32BE(0);
  }

  uint64(field: string): bigint {
    return this.bytes(8, field).readBigUInt64BE(0);
  }

  string(field: string): Buffer {
    return this.bytes(this.uint32(`${field} length`), field);
  }

  /** A string that must be printable ASCII (names, namespaces, principals are checked by callers). */
  text(field: string): string {
    const raw = this.string(field);
    const s = raw.toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(raw) || s.includes('\0')) throw new SshFormatError(`${this.what}: ${field} is not valid UTF-8 text`);
    return s;
  }

  /** A non-negative mpint in its canonical (minimal) form, returned as unsigned big-endian bytes. */
  mpint(field: string): Buffer {
    const raw = this.string(field);
    if (raw.length === 0) return raw;
    if (((raw[0] as number) & 0x80) !== 0) throw new SshFormatError(`${this.what}: ${field} is negative`);
    if (raw[0] === 0) {
      if (raw.length === 1 || ((raw[1] as number) & 0x80) === 0) throw new SshFormatError(`${this.what}: ${field} is not a minimal mpint`);
      return raw.subarray(1);
    }
    return raw;
  }

  end(): void {
    if (this.remaining !== 0) throw new SshFormatError(`${this.what}: ${this.remaining} trailing byte(s)`);
  }
}

export class SshWriter {
  private readonly parts: Buffer[] = [];

  raw(bytes: Buffer | string): this {
    this.parts.push(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
    return this;
  }

  uint32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return this.raw(b);
  }

  string(bytes: Buffer | string): this {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    return this.uint32(b.length).raw(b);
  }

  /** Writes unsigned big-endian bytes as a canonical mpint. */
  mpint(unsigned: Buffer): this {
    let i = 0;
    while (i < unsigned.length && unsigned[i] === 0) i++;
    const v = unsigned.subarray(i);
    return this.string(v.length > 0 && ((v[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), v]) : v);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
