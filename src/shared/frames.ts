/**
 * Binary frames for the served studio's WebSocket: a JSON header plus raw byte blobs, so
 * previews and images travel as bytes, not base64. Layout (little endian):
 *   u32 headerLength | header (UTF-8 JSON) | repeated: u32 blobLength | blob bytes
 * Every Uint8Array in the message is replaced in the header by {"$blob": index}.
 * No Node, no DOM beyond TextEncoder/TextDecoder.
 *
 * Frames arrive from whoever can reach the socket, so the decoder bounds everything it
 * allocates before allocating it, and fails only with a FrameError.
 */

/** The largest frame either side decodes (a done event carries a full-size PNG). */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/**
 * The largest frame a client may send the server: a call carries at most a dropped PNG
 * (MAX_IMPORT_PNG_BYTES, 24 MiB) or an init image and mask; served mode sets the
 * WebSocket's maxPayload to this, so a bigger frame is refused before it is buffered.
 */
export const MAX_CALL_FRAME_BYTES = 32 * 1024 * 1024;
/**
 * The most blobs one frame may hold. Real messages carry at most two (an init image and a
 * mask); without a bound, a 32 MiB frame of empty blobs decodes into 8 million arrays
 * (gigabytes of heap, seconds of blocked event loop).
 */
export const MAX_FRAME_BLOBS = 64;

/** The one error the decoder throws: the frame is malformed or too large. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export function encodeFrame(message: unknown): Uint8Array {
  const blobs: Uint8Array[] = [];
  const header = JSON.stringify(message, (_key, value) => {
    if (value instanceof Uint8Array) {
      blobs.push(value);
      return { $blob: blobs.length - 1 };
    }
    return value;
  });
  const headerBytes = new TextEncoder().encode(header);
  let total = 4 + headerBytes.length;
  for (const b of blobs) total += 4 + b.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  let offset = 4 + headerBytes.length;
  for (const b of blobs) {
    view.setUint32(offset, b.length, true);
    out.set(b, offset + 4);
    offset += 4 + b.length;
  }
  return out;
}

export interface FrameLimits {
  /** Largest frame accepted; defaults to MAX_FRAME_BYTES. */
  maxBytes?: number;
  /** Most blobs accepted; defaults to MAX_FRAME_BLOBS. */
  maxBlobs?: number;
}

/** Where each blob lies in the frame: a pure walk of the length prefixes, nothing copied. */
function blobSpans(view: DataView, start: number, maxBlobs: number): [number, number][] {
  const spans: [number, number][] = [];
  let offset = start;
  while (offset < view.byteLength) {
    if (spans.length >= maxBlobs) throw new FrameError(`frame has more than ${maxBlobs} blobs`);
    if (offset + 4 > view.byteLength) throw new FrameError('frame blob length truncated');
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > view.byteLength) throw new FrameError('frame blob truncated');
    spans.push([offset + 4, offset + 4 + length]);
    offset += 4 + length;
  }
  return spans;
}

/** Decodes a frame; throws a FrameError with a short message on anything malformed (untrusted input). */
export function decodeFrame(frame: Uint8Array, limits: FrameLimits = {}): unknown {
  const maxBytes = limits.maxBytes ?? MAX_FRAME_BYTES;
  if (frame.length > maxBytes) throw new FrameError(`frame too large (${frame.length} bytes, the limit is ${maxBytes})`);
  if (frame.length < 4) throw new FrameError('frame too short');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > frame.length) throw new FrameError('frame header truncated');
  // Every blob is located and counted before any is copied.
  const blobs = blobSpans(view, 4 + headerLength, limits.maxBlobs ?? MAX_FRAME_BLOBS).map(([from, to]) => frame.slice(from, to));
  let header: string;
  try {
    header = new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + headerLength));
  } catch {
    throw new FrameError('frame header is not UTF-8');
  }
  try {
    return JSON.parse(header, (_key, value) => {
      if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && typeof value.$blob === 'number') {
        const blob = Number.isInteger(value.$blob) ? blobs[value.$blob] : undefined;
        if (!blob) throw new FrameError(`frame refers to missing blob ${value.$blob}`);
        return blob;
      }
      return value;
    });
  } catch (error) {
    if (error instanceof FrameError) throw error;
    // SyntaxError, or a RangeError from the reviver on absurdly deep nesting.
    throw new FrameError(`frame header is not JSON (${(error as Error).message.slice(0, 80)})`);
  }
}
