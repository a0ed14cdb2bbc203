/**
 * Ours: one alpha-weighted box filter is all the resizing the studio needs; an image library would bring far more than it.
 *
 * Gallery thumbnails: an image box-downscaled to at most THUMBNAIL_SIDE pixels a side and
 * encoded as PNG. Made in the engine process beside the result's PNG (the studio's main
 * process encodes nothing), and by the gallery when it rebuilds a lost thumbnail.
 */
import { type RgbaPixels, encodePng } from './png';

export const THUMBNAIL_SIDE = 256;

/** For each output pixel of a resize from `src` to `dst`, the source pixels it covers and how much. */
function boxSpans(src: number, dst: number): { first: Int32Array; weights: Float64Array[] } {
  const first = new Int32Array(dst);
  const weights: Float64Array[] = [];
  const step = src / dst;
  for (let i = 0; i < dst; i++) {
    const lo = i * step;
    const hi = Math.min(src, (i + 1) * step);
    const j0 = Math.floor(lo);
    const j1 = Math.ceil(hi);
    const w = new Float64Array(j1 - j0);
    for (let j = j0; j < j1; j++) w[j - j0] = (Math.min(hi, j + 1) - Math.max(lo, j)) / step;
    first[i] = j0;
    weights.push(w);
  }
  return { first, weights };
}

/**
 * Area-average ("box") downscale so that neither side exceeds `maxSide`, keeping the aspect
 * ratio; colours are averaged weighted by alpha (premultiplied), so transparent pixels do not
 * darken the edges. An image that already fits is returned as is.
 */
export function downscaleBox(image: RgbaPixels, maxSide = THUMBNAIL_SIDE): RgbaPixels {
  const { width: w, height: h, data } = image;
  if (w <= maxSide && h <= maxSide) return image;
  const scale = maxSide / Math.max(w, h);
  const tw = Math.min(maxSide, Math.max(1, Math.round(w * scale)));
  const th = Math.min(maxSide, Math.max(1, Math.round(h * scale)));
  const xs = boxSpans(w, tw);
  const ys = boxSpans(h, th);
  // Horizontal pass into premultiplied floats (r*a, g*a, b*a, a), one row of source at a time.
  const mid = new Float64Array(tw * h * 4);
  for (let y = 0; y < h; y++) {
    const row = y * w * 4;
    for (let x = 0; x < tw; x++) {
      const wts = xs.weights[x];
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let k = 0, p = row + xs.first[x] * 4; k < wts.length; k++, p += 4) {
        const wa = wts[k] * data[p + 3];
        r += wa * data[p];
        g += wa * data[p + 1];
        b += wa * data[p + 2];
        a += wa;
      }
      const o = (y * tw + x) * 4;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
      mid[o + 3] = a;
    }
  }
  const out = new Uint8Array(tw * th * 4);
  for (let y = 0; y < th; y++) {
    const wts = ys.weights[y];
    for (let x = 0; x < tw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let k = 0, p = (ys.first[y] * tw + x) * 4; k < wts.length; k++, p += tw * 4) {
        r += wts[k] * mid[p];
        g += wts[k] * mid[p + 1];
        b += wts[k] * mid[p + 2];
        a += wts[k] * mid[p + 3];
      }
      const o = (y * tw + x) * 4;
      if (a > 0) {
        out[o] = Math.min(255, Math.round(r / a));
        out[o + 1] = Math.min(255, Math.round(g / a));
        out[o + 2] = Math.min(255, Math.round(b / a));
      }
      out[o + 3] = Math.min(255, Math.round(a));
    }
  }
  return { width: tw, height: th, data: out };
}

/** The thumbnail PNG of an image (no text chunks: the image's own file carries the metadata). */
export function encodeThumbnail(image: RgbaPixels): Uint8Array {
  return encodePng({ ...downscaleBox(image), channels: 4 });
}
