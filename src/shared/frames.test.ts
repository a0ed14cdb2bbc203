import { expect, test } from 'vitest';
import { decodeFrame, encodeFrame } from './frames';

test('round trip keeps bytes as bytes, anywhere in the message', () => {
  const message = { type: 'event', payload: { preview: new Uint8Array([0, 255, 7]), nested: [new Uint8Array(0), { b: new Uint8Array([9]) }], text: 'é' } };
  const back = decodeFrame(encodeFrame(message)) as typeof message;
  expect(back).toEqual(message);
  expect(back.payload.preview).toBeInstanceOf(Uint8Array);
});

test.each([
  ['empty', new Uint8Array(0), /too short/],
  ['header past the end', new Uint8Array([255, 0, 0, 0, 123]), /header truncated/],
  ['blob past the end', (() => { const f = encodeFrame({ a: new Uint8Array([1, 2, 3]) }); return f.subarray(0, f.length - 1); })(), /blob truncated/],
  ['reference to a missing blob', encodeFrame({ a: { $blob: 3 } }), /missing blob 3/],
  ['bad UTF-8', new Uint8Array([2, 0, 0, 0, 0xff, 0xfe]), /./],
])('rejects %s', (_name, frame, message) => {
  expect(() => decodeFrame(frame)).toThrow(message);
});
