/**
 * How well an inpainting run kept and repainted, measured on 8-bit RGBA results:
 *  - kept: mean |result - original| over the kept pixels, in levels (0-255);
 *  - high-frequency energy of the repainted region: the mean squared difference between each
 *    pixel and the mean of its 3x3 neighbourhood (a discrete Laplacian), so a region of noise
 *    scores far above a drawn one at the same contrast.
 */
import type { Settings } from '../../../shared/settings';
import type { RgbaImage } from './images';
import { maskToKnown } from './images';
import type { Pipeline } from './pipeline';

export interface InpaintQuality {
  /** Mean |result - original| over kept pixels (mask < 0.5), 0-255 levels. */
  keptMeanDiff: number;
  /** Mean squared 3x3 Laplacian over repainted pixels, in levels^2. */
  repaintedHighFrequency: number;
  /** Mean |result - original| over repainted pixels (the region was redrawn, not copied). */
  repaintedMeanDiff: number;
}

export function inpaintQuality(result: RgbaImage, original: RgbaImage, mask: RgbaImage): InpaintQuality {
  const { width: W, height: H } = result;
  const known = maskToKnown(mask);
  let kept = 0;
  let keptCount = 0;
  let changed = 0;
  let hf = 0;
  let repaintCount = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const repainted = known[p] < 0.5;
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(result.data[4 * p + c] - original.data[4 * p + c]);
        if (!repainted) {
          kept += d;
          continue;
        }
        changed += d;
        let sum = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const yy = Math.min(H - 1, Math.max(0, y + dy));
            const xx = Math.min(W - 1, Math.max(0, x + dx));
            sum += result.data[4 * (yy * W + xx) + c];
            n++;
          }
        }
        hf += (result.data[4 * p + c] - sum / n) ** 2;
      }
      if (repainted) repaintCount++;
      else keptCount++;
    }
  }
  return {
    keptMeanDiff: keptCount ? kept / (3 * keptCount) : 0,
    repaintedHighFrequency: repaintCount ? hf / (3 * repaintCount) : 0,
    repaintedMeanDiff: repaintCount ? changed / (3 * repaintCount) : 0,
  };
}

/** The solvers the inpainting sweep runs (one per family, the highest order offered). */
export const SWEEP_SOLVERS = ['ddim', 'plms4', 'ltsp4', 'stsp4', 'dpmpp2m', 'unipc2', 'split-pc3'] as const;

export interface SweepRow extends InpaintQuality {
  solver: string;
  steps: number;
  image: RgbaImage;
  /** repaintedHighFrequency / that of DDIM with `referenceSteps` steps. */
  highFrequencyRatio: number;
}

/**
 * Inpaints `original` under `mask` with each solver at `steps` steps and with DDIM at
 * `referenceSteps` (the reference the high-frequency energy is compared with).
 */
export async function inpaintSweep(
  model: Pipeline,
  settings: Settings,
  original: RgbaImage,
  mask: RgbaImage,
  steps = 20,
  referenceSteps = 50,
  solvers: readonly string[] = SWEEP_SOLVERS,
): Promise<{ reference: SweepRow; rows: SweepRow[] }> {
  const run = async (solver: string, n: number): Promise<SweepRow> => {
    const r = await model.generate({ ...settings, task: 'inpaint', solver, steps: n }, { initImage: original, mask });
    return { solver, steps: n, image: r.image, ...inpaintQuality(r.image, original, mask), highFrequencyRatio: 1 };
  };
  const reference = await run('ddim', referenceSteps);
  const rows: SweepRow[] = [];
  for (const solver of solvers) {
    const row = await run(solver, steps);
    row.highFrequencyRatio = row.repaintedHighFrequency / reference.repaintedHighFrequency;
    rows.push(row);
  }
  return { reference, rows };
}

/** A square mask (white = repaint) over the middle half of a width x height picture. */
export function centreMask(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = x >= width / 4 && x < (3 * width) / 4 && y >= height / 4 && y < (3 * height) / 4;
      data.fill(inside ? 255 : 0, 4 * (y * width + x), 4 * (y * width + x) + 3);
      data[4 * (y * width + x) + 3] = 255;
    }
  }
  return { width, height, data };
}
