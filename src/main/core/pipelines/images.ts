/** Conversions between 8-bit RGBA images and model-space tensors (pixels in [-1, 1], CHW). */

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major. */
  data: Uint8Array;
}

/** RGB of an RGBA image as [3, H, W] in [-1, 1] (alpha ignored). */
export function imageToTensor(image: RgbaImage): Float32Array {
  const hw = image.width * image.height;
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) out[c * hw + p] = image.data[4 * p + c] / 127.5 - 1;
  }
  return out;
}

/** One sample [C, H, W] in [-1, 1] to RGBA: round((x + 1) * 127.5) after clamping (docs/model-format.md §9). */
export function tensorToImage(x: Float32Array, channels: number, width: number, height: number): RgbaImage {
  const hw = width * height;
  const data = new Uint8Array(4 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) {
      const v = x[(channels >= 3 ? c : 0) * hw + p];
      const clamped = v > 1 ? 1 : v < -1 ? -1 : v;
      data[4 * p + c] = Math.round((clamped + 1) * 127.5);
    }
    data[4 * p + 3] = 255;
  }
  return { width, height, data };
}

/**
 * A mask image to per-pixel "known" weights: white (or opaque bright) marks the region to
 * regenerate, black the region to keep (the convention of AUTOMATIC1111 and diffusers).
 */
export function maskToKnown(mask: RgbaImage): Float32Array {
  const hw = mask.width * mask.height;
  const known = new Float32Array(hw);
  for (let p = 0; p < hw; p++) {
    const luminance = (mask.data[4 * p] + mask.data[4 * p + 1] + mask.data[4 * p + 2]) / (3 * 255);
    const alpha = mask.data[4 * p + 3] / 255;
    known[p] = 1 - luminance * alpha;
  }
  return known;
}
