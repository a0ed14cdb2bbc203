/**
 * One interface for every model folder: a Pipeline opens the folder's networks and turns
 * settings (plus pictures for img2img, inpainting and the restorations) into an image. Two
 * implementations: pixel.ts (the picture is the sampler's state) and latent.ts (Stable
 * Diffusion: the state is the VAE latent). What they share, the run itself, is run.ts.
 */
import type { Settings } from '../../../shared/settings';
import type { CostCounter } from '../engine/model';
import type { StepProgress } from '../engine/sampler';
import type { ModelFolder } from '../models/modelFolder';
import type { ProviderName, SkippedProvider } from '../runtime/sessions';
import type { RgbaImage } from './images';
import type { InpaintMasks } from './knownRegion';

export interface PipelineInputs {
  /** x_T, the sampler's initial state; default: torch-compatible randn(seed). */
  initNoise?: Float32Array;
  initImage?: RgbaImage;
  mask?: RgbaImage;
  signal?: AbortSignal;
  /** Progress after each step; `x0` is that step's prediction as a picture [image channels, H, W] (a preview for latent models). */
  onStep?: (progress: StepProgress) => void | Promise<void>;
}

export interface PipelineResult {
  /** The sampler's final state: pixels in [-1, 1] [1, C, H, W], or the latent before decoding [1, 4, H/8, W/8]. */
  x: Float32Array;
  shape: [number, number, number, number];
  image: RgbaImage;
  /** The final state as a picture [image channels, H, W] in about [-1, 1], before inpainting's paste-back. */
  decoded: Float32Array;
  cost: CostCounter;
  samplingMs: number;
  timesteps: number[];
  /** Things the user should know (unknown words, truncated prompt). */
  warnings: string[];
  /** Token ids of the prompt and the negative prompt (models with a text encoder). */
  condIds?: number[];
  uncondIds?: number[];
  /** img2img and inpainting: the starting picture in the sampler's space (for latent models its latent, scaled). */
  initState?: Float32Array;
  /** Inpainting: the masks used. */
  masks?: InpaintMasks;
}

export interface Pipeline {
  readonly kind: 'pixel' | 'latent';
  readonly folder: ModelFolder;
  /** The pictures it makes: 1 (gray) or 3 channels, and the fixed size where the model has one (null = free). */
  readonly image: { channels: number; width: number | null; height: number | null };
  readonly provider: ProviderName;
  readonly skippedProviders: SkippedProvider[];
  readonly loadMs: number;
  generate(settings: Settings, inputs?: PipelineInputs): Promise<PipelineResult>;
}
