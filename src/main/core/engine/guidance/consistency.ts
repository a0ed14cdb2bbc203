/**
 * Data-consistency operators for pixel-space restoration (docs/samplers.md §3.3):
 * g = s * sqrt(1 - abar) * grad_x ||A(x0_hat) - y||^2 / 2, with d x0_hat/dx ~ 1/sqrt(abar)
 * (no network Jacobian), so grad_x = A^T(A x0_hat - y) / sqrt(abar).
 * This file computes the residual term A^T(A x0 - y) for each operator.
 */

import type { RunInput } from '../../../../shared/settingsFields';
import { SettingsError } from '../errors';

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

export type ConsistencyOperator =
  /** Inpainting: mask[h*w] is 1 where the pixel is known (0..1 allowed for feathered edges); known[c*h*w] holds those pixels in [-1, 1]. */
  | { kind: 'inpaint'; mask: Float32Array; known: Float32Array }
  /** Colorization: gray[h*w] is the luma (ITU-R BT.601 weights) of the target in [-1, 1]. */
  | { kind: 'colorize'; gray: Float32Array }
  /** Super-resolution: low[c*(h/f)*(w/f)] is the f-times box-downsampled target in [-1, 1]. */
  | { kind: 'super-resolution'; low: Float32Array; factor: number };

export const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

export function checkOperator(op: ConsistencyOperator, shape: ImageShape): void {
  const hw = shape.height * shape.width;
  const expect = (what: string, field: RunInput, got: number, want: number) => {
    if (got !== want) throw new SettingsError(`${op.kind}: ${what} has ${got} values, expected ${want} for a ${shape.width}x${shape.height} image`, { field, kind: 'format' });
  };
  switch (op.kind) {
    case 'inpaint':
      expect('mask', 'mask', op.mask.length, hw);
      expect('known image', 'initImage', op.known.length, hw * shape.channels);
      break;
    case 'colorize':
      if (shape.channels !== 3) throw new SettingsError(`colorize needs a 3-channel model, this one has ${shape.channels}`, { field: 'task', kind: 'unsupported' });
      expect('gray image', 'initImage', op.gray.length, hw);
      break;
    case 'super-resolution': {
      const f = op.factor;
      if (!Number.isInteger(f) || f < 2 || shape.height % f !== 0 || shape.width % f !== 0) {
        throw new SettingsError(`super-resolution: factor ${f} must be a whole number >= 2 dividing ${shape.width}x${shape.height}`, { field: 'initImage', kind: 'format' });
      }
      expect('low-resolution image', 'initImage', op.low.length, (hw / (f * f)) * shape.channels);
      break;
    }
  }
}

/** out = A^T (A x0 - y) for every row of x0 (rows * C*H*W values). */
export function consistencyResidual(op: ConsistencyOperator, shape: ImageShape, rows: number, x0: Float32Array, out: Float32Array): void {
  const { channels: C, height: H, width: W } = shape;
  const hw = H * W;
  const per = C * hw;
  for (let r = 0; r < rows; r++) {
    const base = r * per;
    switch (op.kind) {
      case 'inpaint':
        for (let c = 0; c < C; c++) {
          for (let p = 0; p < hw; p++) {
            const i = base + c * hw + p;
            out[i] = op.mask[p] * (x0[i] - op.known[c * hw + p]);
          }
        }
        break;
      case 'colorize':
        for (let p = 0; p < hw; p++) {
          let gray = 0;
          for (let c = 0; c < 3; c++) gray += LUMA_WEIGHTS[c] * x0[base + c * hw + p];
          const residual = gray - op.gray[p];
          for (let c = 0; c < 3; c++) out[base + c * hw + p] = LUMA_WEIGHTS[c] * residual;
        }
        break;
      case 'super-resolution': {
        const f = op.factor;
        const h = H / f;
        const w = W / f;
        const inv = 1 / (f * f);
        for (let c = 0; c < C; c++) {
          for (let by = 0; by < h; by++) {
            for (let bx = 0; bx < w; bx++) {
              let mean = 0;
              for (let dy = 0; dy < f; dy++) {
                for (let dx = 0; dx < f; dx++) mean += x0[base + c * hw + (by * f + dy) * W + bx * f + dx];
              }
              const residual = (mean * inv - op.low[c * h * w + by * w + bx]) * inv;
              for (let dy = 0; dy < f; dy++) {
                for (let dx = 0; dx < f; dx++) out[base + c * hw + (by * f + dy) * W + bx * f + dx] = residual;
              }
            }
          }
        }
        break;
      }
    }
  }
}
