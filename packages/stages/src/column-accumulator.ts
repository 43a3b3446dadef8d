import { Float64, makeData, TimestampMillisecond, Utf8 } from 'apache-arrow';
import type { Data } from 'apache-arrow';

/**
 * Grows one column of an ingested table value by value, in Arrow's own layout (a Float64Array,
 * or UTF-8 bytes plus offsets, plus a validity bitmap), so an ingest holds its data once and
 * compactly instead of as millions of JS strings until the end.
 *
 * A column starts untyped and becomes numeric at its first number or text at its first string.
 * A numeric column that meets a string turns into text: its earlier numbers are rendered back to
 * their source spelling, which `pushNumber(value, spelling)` keeps only when it differs from
 * `String(value)` ("1.50", "007", "1e3"), so a code column like `007, A12` keeps `007`.
 */
export class ColumnAccumulator {
  private mode: 'empty' | 'number' | 'text' | 'timestamp' = 'empty';
  private length = 0;
  private nullCount = 0;
  private validity = new Uint8Array(64);
  private numbers = new Float64Array(0);
  /** Source spellings of numbers that String(value) would not reproduce; sparse. */
  private spellings: Map<number, string> | undefined;
  private bytes: Buffer = Buffer.alloc(0);
  private byteLength = 0;
  private offsets = new Int32Array(0);

  constructor(
    /** Column name, for messages. */
    readonly name: string,
    /** Fixes the kind up front (a database column), so a stray value cannot change it. */
    private readonly fixed?: 'number' | 'text' | 'timestamp',
  ) {
    if (fixed) this.startMode(fixed);
  }

  get rows(): number {
    return this.length;
  }

  get kind(): 'empty' | 'number' | 'text' | 'timestamp' {
    return this.mode;
  }

  pushNull(): void {
    this.reserve(this.length + 1);
    if (this.mode === 'text') this.offsets[this.length + 1] = this.byteLength;
    this.nullCount++;
    this.length++;
  }

  /** Pads with missing values up to `rows` (a JSON key first seen after some records). */
  padTo(rows: number): void {
    while (this.length < rows) this.pushNull();
  }

  /**
   * A number; NaN is stored as missing. `spelling` is the source text, kept only when
   * String(value) would not give it back.
   */
  pushNumber(value: number, spelling?: string): void {
    if (Number.isNaN(value)) return this.pushNull();
    if (this.mode === 'text') return this.pushText(spelling ?? String(value));
    if (this.mode === 'empty') this.startMode('number');
    if (this.mode === 'timestamp') throw new Error(`column ${this.name} holds timestamps, got a number`);
    this.reserve(this.length + 1);
    if (spelling !== undefined && !spellsLikeString(spelling)) (this.spellings ??= new Map()).set(this.length, spelling);
    this.numbers[this.length] = value;
    this.setValid(this.length);
    this.length++;
  }

  /** Milliseconds since the Unix epoch. */
  pushTimestamp(ms: number): void {
    if (Number.isNaN(ms)) return this.pushNull();
    if (this.mode === 'empty') this.startMode('timestamp');
    if (this.mode !== 'timestamp') throw new Error(`column ${this.name} is ${this.mode}, got a timestamp`);
    this.reserve(this.length + 1);
    this.numbers[this.length] = ms;
    this.setValid(this.length);
    this.length++;
  }

  pushText(value: string): void {
    if (this.mode !== 'text') {
      if (this.fixed === 'number' || this.fixed === 'timestamp') throw new Error(`column ${this.name} is ${this.fixed}, got text`);
      this.toText();
    }
    this.reserve(this.length + 1);
    const needed = this.byteLength + value.length * 3;
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2, 1024));
      this.bytes.copy(grown, 0, 0, this.byteLength);
      this.bytes = grown;
    }
    this.byteLength += this.bytes.write(value, this.byteLength, 'utf8');
    this.setValid(this.length);
    this.length++;
    this.offsets[this.length] = this.byteLength;
  }

  /** The finished column. A column that saw no value at all is Utf8, all null. */
  finish(): Data {
    const { length, nullCount } = this;
    const nullBitmap = nullCount > 0 ? this.validity.slice(0, (length + 7) >> 3) : undefined;
    const nulls = nullBitmap ? { nullBitmap } : {};
    switch (this.mode) {
      case 'number':
        return makeData({ type: new Float64(), length, nullCount, ...nulls, data: this.numbers.slice(0, length) });
      case 'timestamp': {
        const ms = new BigInt64Array(length);
        for (let i = 0; i < length; i++) ms[i] = BigInt(Math.round(this.numbers[i]!));
        return makeData({ type: new TimestampMillisecond('UTC'), length, nullCount, ...nulls, data: ms as never });
      }
      case 'empty':
        this.toText();
        return this.finish();
      case 'text':
        return makeData({
          type: new Utf8(),
          length,
          nullCount,
          ...nulls,
          valueOffsets: this.offsets.slice(0, length + 1),
          data: new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.byteLength).slice(),
        });
    }
  }

  private startMode(mode: 'number' | 'text' | 'timestamp'): void {
    if (mode === 'text') this.toText();
    else {
      this.mode = mode;
      this.numbers = new Float64Array(Math.max(this.validity.length * 8, 64));
    }
  }

  /** Switches to text, re-spelling the numbers seen so far. */
  private toText(): void {
    const previous = this.mode;
    const numbers = this.numbers;
    const spellings = this.spellings;
    const rows = this.length;
    this.mode = 'text';
    this.offsets = new Int32Array(Math.max(this.validity.length * 8, 64) + 1);
    this.bytes = Buffer.allocUnsafe(1024);
    this.byteLength = 0;
    this.numbers = new Float64Array(0);
    this.spellings = undefined;
    if (previous === 'empty') {
      // Only nulls so far: offsets stay 0.
      return;
    }
    if (previous === 'timestamp') throw new Error(`column ${this.name} holds timestamps, got text`);
    // Re-append every row as text: reset and replay.
    const validity = this.validity;
    this.length = 0;
    this.nullCount = 0;
    this.validity = new Uint8Array(validity.length);
    for (let i = 0; i < rows; i++) {
      if ((validity[i >> 3]! >> (i & 7)) & 1) this.pushText(spellings?.get(i) ?? String(numbers[i]));
      else this.pushNull();
    }
  }

  private setValid(i: number): void {
    this.validity[i >> 3]! |= 1 << (i & 7);
  }

  private reserve(rows: number): void {
    if (rows > this.validity.length * 8) {
      const grown = new Uint8Array(Math.max(this.validity.length * 2, (rows + 7) >> 3));
      grown.set(this.validity);
      this.validity = grown;
    }
    if ((this.mode === 'number' || this.mode === 'timestamp') && rows > this.numbers.length) {
      const grown = new Float64Array(Math.max(this.numbers.length * 2, rows));
      grown.set(this.numbers);
      this.numbers = grown;
    }
    if (this.mode === 'text' && rows + 1 > this.offsets.length) {
      const grown = new Int32Array(Math.max(this.offsets.length * 2, rows + 1));
      grown.set(this.offsets);
      this.offsets = grown;
    }
  }
}

/**
 * Whether String(Number(text)) === text for a decimal literal, without the round trip (which
 * costs more than parsing the cell). Up to 15 significant digits a decimal names a distinct
 * double, so only the spelling can differ: a sign, leading or trailing zeros, a bare point, an
 * exponent. Longer literals and those String() would write in exponent form take the slow check.
 */
export function spellsLikeString(text: string): boolean {
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0x2d) i = 1; // '-'
  let digits = 0;
  let dot = -1;
  for (let k = i; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (c === 0x2e && dot === -1) dot = k;
    else return String(Number(text)) === text; // '+', 'e', anything else: rare
  }
  if (digits === 0 || digits > 15) return String(Number(text)) === text;
  const intEnd = dot === -1 ? n : dot;
  if (intEnd === i) return false; // ".5"
  if (intEnd - i > 1 && text.charCodeAt(i) === 0x30) return false; // "007"
  if (dot !== -1) {
    if (dot === n - 1 || text.charCodeAt(n - 1) === 0x30) return false; // "5.", "1.50"
    if (intEnd - i === 1 && text.charCodeAt(i) === 0x30 && text.startsWith('000000', dot + 1)) return String(Number(text)) === text; // 1e-7
  } else if (i === 1 && intEnd === 2 && text.charCodeAt(1) === 0x30) return false; // "-0"
  return true;
}
