/**
 * Minimal NumPy .npy reader/writer for float32 tensors (format spec: numpy/lib/format.py,
 * "NEP 1"). Layout: the magic "\x93NUMPY", a major/minor version byte pair, the header length
 * (uint16 LE in 1.0, uint32 LE in 2.0), an ASCII Python dict literal padded with spaces and a
 * final '\n' so the data starts on a 64-byte boundary, then the raw C-order array data.
 * readNpy accepts 1.0 and 2.0; encodeNpy writes 1.0, as numpy itself does for such arrays.
 */

/** A .npy file that cannot be read (or, with assertFinite, holds NaN or infinite values). */
export class NpyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyError';
  }
}

/**
 * numpy (1.24+) refuses headers over 10000 bytes unless told otherwise; this reader allows far
 * more, but not a header that is most of a huge file, which would only cost time to tokenize.
 */
export const MAX_HEADER_BYTES = 1024 * 1024;

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGNMENT = 64;
/** numpy leaves room for the first axis to grow to this many digits, so files can be appended in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;
const SUPPORTED_DTYPES: Record<string, number> = { '<f4': 4, '<f8': 8 };
/** Magic, version bytes and the uint16 header length of format 1.0. */
const V1_PREAMBLE_LENGTH = MAGIC.length + 4;
/** NPY_MAXDIMS of numpy 1.x; within it the header always fits format 1.0's uint16 length. */
const MAX_DIMS = 32;

export interface ReadNpyOptions {
  /** Refuse NaN and ±Infinity (assertFinite); names the file in that message, e.g. "--init-noise n.npy". */
  requireFinite?: boolean;
  what?: string;
}

/**
 * Throws NpyError when `array` holds a NaN or infinite value, naming the first one by its index
 * in the shape. Float data from outside (initial noise, latents) must be finite: one NaN spreads
 * through every later step of a sampler and the result is silently black.
 */
/**
 * The index of the first value that is NaN or infinite, or -1. Input noise or latents with
 * such a value would run to an all-NaN state and a black image that is then saved as if it
 * were a result; callers refuse the input instead, naming the file and this index.
 */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

export function assertFinite(array: NpyArray, what = 'npy'): void {
  const { data, shape } = array;
  const i = firstNonFinite(data);
  if (i < 0) return;
  const v = data[i];
  const index: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    index.unshift(shape[d] === 0 ? 0 : rest % shape[d]);
    rest = shape[d] === 0 ? 0 : Math.floor(rest / shape[d]);
  }
  throw new NpyError(`${what}: value at index [${index.join(', ')}] is ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}; values must be finite`);
}

export function readNpy(buffer: Uint8Array, options: ReadNpyOptions = {}): NpyArray {
  const array = readNpyData(buffer);
  if (options.requireFinite) assertFinite(array, options.what);
  return array;
}

function readNpyData(buffer: Uint8Array): NpyArray {
  if (!(buffer instanceof Uint8Array)) throw new NpyError('npy: input is not a Uint8Array');
  const { headerText, dataOffset } = readPreamble(buffer);
  const header = parseHeader(headerText);
  const itemSize = dtypeItemSize(header.descr);
  if (header.fortranOrder) {
    throw new NpyError('npy: fortran_order True is not supported (expected C order)');
  }
  const numel = header.shape.reduce((product, dim) => product * dim, 1);
  const expectedBytes = numel * itemSize;
  const actualBytes = buffer.length - dataOffset;
  if (actualBytes !== expectedBytes) {
    const problem = actualBytes < expectedBytes ? 'truncated data' : 'data length mismatch';
    throw new NpyError(
      `npy: ${problem}: shape ${pythonTuple(header.shape)} of '${header.descr}' needs ` +
        `${expectedBytes} bytes but ${actualBytes} follow the header`,
    );
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset + dataOffset, expectedBytes);
  const data = new Float32Array(numel);
  if (itemSize === 4) {
    for (let i = 0; i < numel; i++) data[i] = view.getFloat32(i * 4, true);
  } else {
    for (let i = 0; i < numel; i++) data[i] = view.getFloat64(i * 8, true); // rounds to nearest float32
  }
  return { shape: header.shape, data };
}

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  if (shape.length > MAX_DIMS) {
    throw new NpyError(`npy: ${shape.length} dimensions is more than numpy can load (${MAX_DIMS})`);
  }
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new NpyError(`npy: shape entries must be non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  const numel = shape.reduce((product, dim) => product * dim, 1);
  if (numel !== data.length) {
    throw new NpyError(`npy: shape ${pythonTuple(shape)} holds ${numel} values but data has ${data.length}`);
  }
  const header = headerWithPadding(shape);
  const out = new Uint8Array(header.length + data.length * 4);
  for (let i = 0; i < header.length; i++) out[i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, header.length);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Preamble + header exactly as numpy's `_write_array_header` produces it, as a latin-1 string. */
function headerWithPadding(shape: readonly number[]): string {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${pythonTuple(shape)}, }`;
  const growth = shape.length > 0 ? ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length) : '';
  const unpadded = dict.length + growth.length + 1; // + the final '\n'
  // numpy always pads, with a full 64 spaces when the header would already end aligned.
  const headerLength = unpadded + ALIGNMENT - ((V1_PREAMBLE_LENGTH + unpadded) % ALIGNMENT);
  const preamble = String.fromCharCode(...MAGIC, 1, 0, headerLength & 0xff, headerLength >>> 8);
  return `${preamble}${dict}${growth}`.padEnd(V1_PREAMBLE_LENGTH + headerLength - 1, ' ') + '\n';
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function readPreamble(buffer: Uint8Array): { headerText: string; dataOffset: number } {
  if (buffer.length < MAGIC.length + 2 || MAGIC.some((byte, i) => buffer[i] !== byte)) {
    throw new NpyError('npy: not a .npy file (missing \\x93NUMPY magic)');
  }
  const major = buffer[MAGIC.length];
  const minor = buffer[MAGIC.length + 1];
  if ((major !== 1 && major !== 2) || minor !== 0) {
    throw new NpyError(`npy: format version ${major}.${minor} is not supported (expected 1.0 or 2.0)`);
  }
  const lengthOffset = MAGIC.length + 2;
  const lengthSize = major === 1 ? 2 : 4;
  if (buffer.length < lengthOffset + lengthSize) {
    throw new NpyError('npy: truncated header: the file ends inside the header length field');
  }
  const view = new DataView(buffer.buffer, buffer.byteOffset + lengthOffset, lengthSize);
  const headerLength = major === 1 ? view.getUint16(0, true) : view.getUint32(0, true);
  const headerStart = lengthOffset + lengthSize;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new NpyError(`npy: header of ${headerLength} bytes is more than the ${MAX_HEADER_BYTES} this reads`);
  }
  const dataOffset = headerStart + headerLength;
  if (buffer.length < dataOffset) {
    throw new NpyError(
      `npy: truncated header: declares ${headerLength} bytes but only ${buffer.length - headerStart} follow`,
    );
  }
  const headerText = Buffer.from(buffer.buffer, buffer.byteOffset + headerStart, headerLength).toString('latin1');
  return { headerText, dataOffset };
}

function dtypeItemSize(descr: string): number {
  // Own keys only: '__proto__' or 'constructor' must not find Object.prototype's.
  if (Object.hasOwn(SUPPORTED_DTYPES, descr)) return SUPPORTED_DTYPES[descr];
  if (descr.startsWith('>')) {
    throw new NpyError(`npy: big-endian dtype '${descr}' is not supported (expected '<f4')`);
  }
  throw new NpyError(`npy: dtype '${descr}' is not supported (expected '<f4')`);
}

// ---------------------------------------------------------------------------------------------
// Header: a Python dict literal with exactly the keys descr (str), fortran_order (bool) and
// shape (tuple of ints). numpy evaluates it with ast.literal_eval; we parse just that subset.

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type Token =
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'name'; text: string; at: number }
  | { kind: 'int'; text: string; at: number };

type HeaderValue = string | boolean | number[];

function malformed(detail: string): Error {
  return new NpyError(`npy: malformed header: ${detail}`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      i++;
    } else if ('{}():,'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at: i++ });
    } else if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw malformed(`unterminated string at offset ${i}`);
      const body = text.slice(i + 1, end);
      if (body.includes('\\')) throw malformed(`escape sequences are not supported (offset ${i})`);
      tokens.push({ kind: 'string', text: body, at: i });
      i = end + 1;
    } else {
      const match = /^(?:[A-Za-z_]\w*|\d+)/.exec(text.slice(i));
      if (!match) throw malformed(`unexpected character '${c}' at offset ${i}`);
      tokens.push({ kind: /^\d/.test(match[0]) ? 'int' : 'name', text: match[0], at: i });
      i += match[0].length;
    }
  }
  return tokens;
}

class TokenReader {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token | undefined {
    return this.tokens[this.position];
  }

  next(): Token {
    const token = this.tokens[this.position++];
    if (!token) throw malformed('unexpected end of header');
    return token;
  }

  expectPunct(text: string): void {
    const token = this.next();
    if (token.kind !== 'punct' || token.text !== text) {
      throw malformed(`expected '${text}' at offset ${token.at}, found '${token.text}'`);
    }
  }

  /** Consumes `text` if it is the next token. */
  acceptPunct(text: string): boolean {
    const token = this.peek();
    if (token?.kind !== 'punct' || token.text !== text) return false;
    this.position++;
    return true;
  }

  atEnd(): boolean {
    return this.position === this.tokens.length;
  }
}

function parseHeader(text: string): NpyHeader {
  const reader = new TokenReader(tokenize(text));
  const entries = parseDict(reader);
  if (!reader.atEnd()) throw malformed(`unexpected '${reader.next().text}' after the dict`);

  for (const key of entries.keys()) {
    if (key !== 'descr' && key !== 'fortran_order' && key !== 'shape') {
      throw malformed(`unexpected key '${key}'`);
    }
  }
  const descr = entries.get('descr');
  const fortranOrder = entries.get('fortran_order');
  const shape = entries.get('shape');
  if (typeof descr !== 'string') throw malformed("'descr' must be a string");
  if (typeof fortranOrder !== 'boolean') throw malformed("'fortran_order' must be True or False");
  if (!Array.isArray(shape)) throw malformed("'shape' must be a tuple of integers");
  return { descr, fortranOrder, shape };
}

function parseDict(reader: TokenReader): Map<string, HeaderValue> {
  const entries = new Map<string, HeaderValue>();
  reader.expectPunct('{');
  while (!reader.acceptPunct('}')) {
    const key = reader.next();
    if (key.kind !== 'string') throw malformed(`expected a quoted key at offset ${key.at}`);
    if (entries.has(key.text)) throw malformed(`duplicate key '${key.text}'`);
    reader.expectPunct(':');
    entries.set(key.text, parseValue(reader));
    if (!reader.acceptPunct(',')) {
      reader.expectPunct('}');
      break;
    }
  }
  return entries;
}

function parseValue(reader: TokenReader): HeaderValue {
  const token = reader.next();
  if (token.kind === 'string') return token.text;
  if (token.kind === 'name' && (token.text === 'True' || token.text === 'False')) return token.text === 'True';
  if (token.kind === 'punct' && token.text === '(') return parseIntTuple(reader);
  throw malformed(`unexpected '${token.text}' at offset ${token.at}`);
}

/** After '(': Python's tuple syntax, so one element needs a trailing comma. */
function parseIntTuple(reader: TokenReader): number[] {
  const items: number[] = [];
  let trailingComma = false;
  while (!reader.acceptPunct(')')) {
    const token = reader.next();
    if (token.kind !== 'int') throw malformed(`shape entries must be integers, found '${token.text}'`);
    const value = Number(token.text);
    if (!Number.isSafeInteger(value)) throw malformed(`shape entry ${token.text} is too large`);
    items.push(value);
    trailingComma = reader.acceptPunct(',');
    if (!trailingComma) {
      reader.expectPunct(')');
      break;
    }
  }
  if (items.length === 1 && !trailingComma) throw malformed(`(${items[0]}) is not a tuple`);
  return items;
}
