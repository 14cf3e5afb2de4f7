/**
 * A YAML stream still in the form it arrived in: the content of a JSON string literal (escapes
 * and all) inside the request body. Its documents can be found, hashed and looked up in the
 * document cache without decoding the whole literal: a document seen before is never decoded at
 * all, and nothing the size of the stream is allocated per request (JSON.parse puts every string
 * of a large body straight into V8's old generation, which then grows until a full GC).
 */
import { isMarkerRest } from './marker-line.js';

const BACKSLASH = 0x5c;
const NEWLINE_ESCAPE = Buffer.from('\\n');
const MARKER = Buffer.from('\\n---');

export class EscapedYaml {
  /**
   * @param buffer the request body; [start, end) is the literal's content, between its quotes
   * @param bodyDigest SHA-256 of that same body (`sha256:<hex>`, null if it could not be made),
   *   carried with the bytes it is the digest of, so it can never be paired with another body
   */
  constructor(
    readonly buffer: Buffer,
    readonly start: number,
    readonly end: number,
    readonly bodyDigest?: Promise<string | null>,
  ) {}

  get byteLength(): number {
    return this.end - this.start;
  }

  /** The whole stream, decoded. Throws a SyntaxError when the literal is not valid JSON. */
  decode(): string {
    return this.decodeRange(this.start, this.end);
  }

  /** [from, to) decoded; both must fall on escape boundaries. */
  decodeRange(from: number, to: number): string {
    return JSON.parse(`"${this.buffer.toString('utf8', from, to)}"`) as string;
  }

  /**
   * The documents as [start, end) ranges of the buffer, split where the decoded stream has a line
   * that is `---` followed by nothing but blanks or a comment (as splitYamlDocuments does on
   * text). Undefined when a `---` line has content after it. What a document may not hold
   * (directives, `...`, a second document) is judged when it is decoded (see parseManifests).
   */
  split(): Array<[number, number]> | undefined {
    const b = this.buffer;
    const docs: Array<[number, number]> = [];
    let docStart = this.start;
    // `at` is where a line starting with `---` begins (its first dash)
    let at = b.toString('latin1', this.start, Math.min(this.end, this.start + 3)) === '---' ? this.start : this.nextMarker(this.start);
    while (at >= 0) {
      let eol: number;
      let rest: string;
      if (b[at + 3] === BACKSLASH && b[at + 4] === NEWLINE_ESCAPE[1] && at + 5 <= this.end) {
        // the usual `---` line: nothing after it
        eol = at + 3;
        rest = '';
      } else {
        eol = this.nextNewline(at + 3);
        rest = this.decodeRange(at + 3, eol < 0 ? this.end : eol);
      }
      if (rest === '' || /^[ \t\r\n]/.test(rest)) {
        if (!isMarkerRest(rest)) return undefined;
        // the document ends where the marker line starts, its last newline included (`|+` keeps it)
        docs.push([docStart, at]);
        docStart = eol < 0 ? this.end : eol + NEWLINE_ESCAPE.length;
      }
      if (eol < 0) break;
      at = this.nextMarker(eol);
    }
    docs.push([docStart, this.end]);
    return docs;
  }

  /** The first dash of the next line (after `from`) that starts with `---`, or -1. */
  private nextMarker(from: number): number {
    for (let i = this.buffer.indexOf(MARKER, from); i >= 0 && i < this.end; i = this.buffer.indexOf(MARKER, i + 1)) {
      if (this.escapes(i)) return i + NEWLINE_ESCAPE.length;
    }
    return -1;
  }

  /** The next newline escape at or after `from`, or -1. */
  private nextNewline(from: number): number {
    for (let i = this.buffer.indexOf(NEWLINE_ESCAPE, from); i >= 0 && i < this.end; i = this.buffer.indexOf(NEWLINE_ESCAPE, i + 1)) {
      if (this.escapes(i)) return i;
    }
    return -1;
  }

  /** Whether the backslash at `i` starts an escape (an even number of backslashes before it). */
  private escapes(i: number): boolean {
    let n = 0;
    for (let k = i - 1; k >= this.start && this.buffer[k] === BACKSLASH; k--) n++;
    return n % 2 === 0;
  }
}
