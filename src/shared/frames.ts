/**
 * Binary frames for the served studio's WebSocket: a JSON header plus raw byte blobs, so
 * previews and images travel as bytes, not base64. Layout (little endian):
 *   u32 headerLength | header (UTF-8 JSON) | repeated: u32 blobLength | blob bytes
 * Every Uint8Array in the message is replaced in the header by {"$blob": index}.
 * No Node, no DOM beyond TextEncoder/TextDecoder.
 */

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

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

/** Decodes a frame; throws a short message on anything malformed (untrusted input). */
export function decodeFrame(frame: Uint8Array): unknown {
  if (frame.length > MAX_FRAME_BYTES) throw new Error('frame too large');
  if (frame.length < 4) throw new Error('frame too short');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > frame.length) throw new Error('frame header truncated');
  const blobs: Uint8Array[] = [];
  let offset = 4 + headerLength;
  while (offset < frame.length) {
    if (offset + 4 > frame.length) throw new Error('frame blob length truncated');
    const length = view.getUint32(offset, true);
    if (offset + 4 + length > frame.length) throw new Error('frame blob truncated');
    blobs.push(frame.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  const header = new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + headerLength));
  return JSON.parse(header, (_key, value) => {
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1 && typeof value.$blob === 'number') {
      const blob = blobs[value.$blob];
      if (!blob) throw new Error(`frame refers to missing blob ${value.$blob}`);
      return blob;
    }
    return value;
  });
}
