/**
 * Keeping the known part of a picture: inpainting's masks, the per-step blend of the known
 * region (noised to the level the state is at) and the final paste-back. One implementation
 * for the pixel pipeline (factor 1: the state is the picture) and the latent pipeline
 * (factor 8: the state is the VAE latent).
 *
 * The blend is the one of diffusers' legacy inpainting pipeline and of RePaint without
 * resampling (Lugmayr et al. 2022, eq. 8-9): after every step the known region of the state is
 * replaced by q(x_t | x_0 = known) drawn with the run's own seeded noise, so every solver,
 * multistep ones included, keeps stepping from a state whose known part is exactly on the
 * forward process.
 */
import { type ConsistencyOperator, type ImageShape, LUMA_WEIGHTS } from '../engine/guidance/consistency';
import type { SamplingPlan } from '../engine/plan';
import type { RgbaImage } from './images';
import { maskToKnown } from './images';

/** Separable Gaussian blur (edges clamped) of a [height, width] map. */
function blurMap(values: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return Float32Array.from(values);
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  const tmp = new Float32Array(values.length);
  const out = new Float32Array(values.length);
  const clamp = (v: number, hi: number) => (v < 0 ? 0 : v > hi ? hi : v);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * values[y * width + clamp(x + k, width - 1)];
      tmp[y * width + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) acc += kernel[k + radius] * tmp[clamp(y + k, height - 1) * width + x];
      out[y * width + x] = acc;
    }
  }
  return out;
}

/** Mean of each factor x factor block. */
function areaDownsample(values: Float32Array, width: number, height: number, factor: number): Float32Array {
  const w = width / factor;
  const h = height / factor;
  const out = new Float32Array(w * h);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[Math.floor(y / factor) * w + Math.floor(x / factor)] += values[y * width + x];
  for (let i = 0; i < out.length; i++) out[i] /= factor * factor;
  return out;
}

/** Feather width of the inpainting mask: sigma of 1/128 of the shorter side, at least 1 pixel (4 at 512x512). */
const featherSigma = (width: number, height: number): number => Math.max(1, Math.min(width, height) / 128);

export interface InpaintMasks {
  /**
   * Pixel repaint weights [H*W] for the paste-back: the binary mask blurred, then cut to the
   * repaint region, so the feather lies inside the repainted area and every kept pixel stays
   * exactly as it was.
   */
  pixel: Float32Array;
  /** Repaint weights of the state [h*w] (the feathered mask averaged over each cell): the per-step blend. */
  state: Float32Array;
  /** The binary mask at state size (nearest, as diffusers' inpainting pipeline): a 9-channel UNet's mask input. */
  stateBinary: Float32Array;
  /** Binary pixel repaint mask (1 = repaint: mask >= 0.5). */
  binary: Float32Array;
}

/** Masks of an inpainting run whose state is the picture downsampled by `factor` (1: pixels, 8: SD latents). */
export function inpaintMasks(mask: RgbaImage, factor: number): InpaintMasks {
  const { width: W, height: H } = mask;
  const known = maskToKnown(mask);
  const binary = new Float32Array(W * H);
  for (let i = 0; i < binary.length; i++) binary[i] = 1 - known[i] >= 0.5 ? 1 : 0;
  const blurred = blurMap(binary, W, H, featherSigma(W, H));
  const pixel = binary.map((b, i) => b * blurred[i]);
  const w = W / factor;
  const h = H / factor;
  const stateBinary = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) stateBinary[y * w + x] = binary[y * factor * W + x * factor];
  // The per-step blend uses the blurred mask (not cut): the state's transition band then
  // straddles the edge, which keeps the repainted side continuous with the known one.
  const state = factor === 1 ? blurred : areaDownsample(blurred, W, H, factor);
  return { pixel, state, stateBinary, binary };
}

export interface KnownRegion {
  /** The clean known state (the picture or its latent), [C, h, w]. */
  known: Float32Array;
  /** Repaint weights [h*w] (1 = repaint, 0 = keep). */
  repaint: Float32Array;
  /** The run's initial noise [C, h, w]: the known region is noised with it at every level. */
  noise: Float32Array;
}

/** The noise level (abar) the state has reached after step `stepIndex`: 1 (clean) after the last. */
function levelAfter(plan: SamplingPlan, stepIndex: number): number {
  const step = plan.steps[stepIndex];
  return step.isLast ? 1 : step.abarPrev;
}

/**
 * A step hook: after step `index` of `plan`, blend the known region into x at the level the
 * state has reached (abar of the next timestep; the clean known state after the last step).
 */
export function blendKnownRegion(region: KnownRegion, plan: SamplingPlan, x: Float32Array, stepIndex: number): void {
  const level = levelAfter(plan, stepIndex);
  const a = Math.sqrt(level);
  const s = Math.sqrt(1 - level);
  const hw = region.repaint.length;
  const channels = region.known.length / hw;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < hw; i++) {
      const k = c * hw + i;
      const m = region.repaint[i];
      x[k] = m * x[k] + (1 - m) * (a * region.known[k] + s * region.noise[k]);
    }
  }
}

/** The picture with the known pixels put back: result * w + original * (1 - w), per pixel [C, H, W]. */
export function pasteBack(result: Float32Array, original: Float32Array, pixelRepaint: Float32Array): Float32Array {
  const hw = pixelRepaint.length;
  const out = new Float32Array(result.length);
  for (let k = 0; k < result.length; k++) {
    const m = pixelRepaint[k % hw];
    out[k] = m * result[k] + (1 - m) * original[k];
  }
  return out;
}

/**
 * The same idea for a measurement y = A x0 (colorize: luma; super-resolution: box
 * downsampling), as ILVR does for super-resolution (Choi et al. 2021, eq. 4-5): after every
 * step the measured component of x is replaced by that of the forward process,
 * A x := sqrt(abar) y + sqrt(1-abar) A noise, with the pseudo-inverse of A (luma: w / |w|^2 per
 * pixel; box downsampling: repeat each value over its block), leaving the unmeasured
 * component (colour, fine detail) to the model. After the last step A x = y exactly.
 */
/** A measurement y = A x of the picture: colorize's gray levels, super-resolution's small picture. */
export type MeasurementOperator = Exclude<ConsistencyOperator, { kind: 'inpaint' }>;

export function replaceMeasurement(op: MeasurementOperator, shape: ImageShape, noise: Float32Array, plan: SamplingPlan, x: Float32Array, stepIndex: number): void {
  const level = levelAfter(plan, stepIndex);
  const a = Math.sqrt(level);
  const s = Math.sqrt(1 - level);
  const { channels: C, height: H, width: W } = shape;
  const hw = H * W;
  if (op.kind === 'colorize') {
    const norm = LUMA_WEIGHTS.reduce((sum, w) => sum + w * w, 0);
    for (let p = 0; p < hw; p++) {
      let lumaX = 0;
      let lumaNoise = 0;
      for (let c = 0; c < 3; c++) {
        lumaX += LUMA_WEIGHTS[c] * x[c * hw + p];
        lumaNoise += LUMA_WEIGHTS[c] * noise[c * hw + p];
      }
      const r = (a * op.gray[p] + s * lumaNoise - lumaX) / norm;
      for (let c = 0; c < 3; c++) x[c * hw + p] += LUMA_WEIGHTS[c] * r;
    }
    return;
  }
  const f = op.factor;
  const h = H / f;
  const w = W / f;
  for (let c = 0; c < C; c++) {
    for (let by = 0; by < h; by++) {
      for (let bx = 0; bx < w; bx++) {
        let meanX = 0;
        let meanNoise = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const k = c * hw + (by * f + dy) * W + bx * f + dx;
            meanX += x[k];
            meanNoise += noise[k];
          }
        }
        const r = a * op.low[c * h * w + by * w + bx] + (s * meanNoise - meanX) / (f * f);
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) x[c * hw + (by * f + dy) * W + bx * f + dx] += r;
      }
    }
  }
}
