/**
 * The run every pipeline shares, whatever space its sampler works in: initial noise, the
 * starting picture of img2img and inpainting (diffusers' strength rule), the per-step hook
 * that keeps the known part of a picture (knownRegion.ts), the engine's sampling loop, and
 * the way back to a picture. A pipeline supplies its StateSpace (identity for pixel models,
 * the VAE for latent ones), its guidance and its noise predictor.
 */
import type { Settings } from '../../../shared/settings';
import type { ImageShape } from '../engine/guidance/consistency';
import type { Guidance } from '../engine/guidance/denoiser';
import { SettingsError } from '../engine/errors';
import type { ClassifierGradient, NoisePredictor } from '../engine/model';
import { TorchGenerator } from '../engine/noise/torchRandn';
import type { SchedulerConfig } from '../engine/schedule';
import { type StateHook, planFor, sample, skipPlan } from '../engine/sampler';
import { type RgbaImage, tensorToImage } from './images';
import { requireSized, stepsToSkip } from './common';
import { type InpaintMasks, type MeasurementOperator, blendKnownRegion, inpaintMasks, pasteBack, replaceMeasurement } from './knownRegion';
import type { PipelineInputs, PipelineResult } from './pipeline';

/** How the sampler's state relates to pictures. */
export interface StateSpace {
  /** The state [C, h, w] of one picture. */
  shape: ImageShape;
  /** Picture pixels per state cell side: 1, or 8 for Stable Diffusion latents. */
  factor: number;
  /** Channels of a picture as a tensor (values in [-1, 1]): the model's 1 or 3, or 3 for latent models. */
  imageChannels: number;
  /** A picture as a tensor [imageChannels, H, W]. */
  pictureTensor(picture: RgbaImage): Float32Array;
  /** Picture tensor -> state (pixel models: itself; latent models: the VAE encoder). */
  encode(picture: Float32Array): Promise<Float32Array>;
  /** Final state -> picture tensor, refusing values that make no picture. */
  decode(state: Float32Array): Promise<Float32Array>;
  /** A step's x0 prediction as a picture tensor, cheaply (progress previews). */
  preview(x0: Float32Array): Float32Array;
}

/** What the starting picture of img2img / inpainting gives a predictor that needs it (a 9-channel inpainting UNet). */
export interface StartingPicture {
  picture: Float32Array;
  masks: InpaintMasks;
}

export interface RunParts {
  space: StateSpace;
  scheduler: SchedulerConfig;
  guidance: Guidance;
  classifier?: ClassifierGradient;
  clipX0?: boolean;
  /** colorize / super-resolution: the measurement replaced after every step (ILVR). */
  measurement?: MeasurementOperator;
  /** Inpainting: blend the known region into the state after every step (not for a UNet that takes the mask itself). */
  blendKnownRegion: boolean;
  predictor(start: StartingPicture | undefined): Promise<NoisePredictor>;
  prompt?: { condIds: number[]; uncondIds: number[] };
  warnings: string[];
}

/**
 * x_T: the caller's noise, checked, or torch-compatible randn from the seed's generator. Never
 * modified. The generator draws x_T either way, so that what the run draws next (the ancestral
 * noise of euler-a and of DDIM with eta > 0) continues the stream as in a diffusers pipeline.
 */
function initialNoise(given: Float32Array | undefined, generator: TorchGenerator, shape: ImageShape): Float32Array {
  const { channels: C, height: h, width: w } = shape;
  const drawn = generator.randn([1, C, h, w]);
  if (!given) return drawn;
  const expected = C * h * w;
  if (given.length !== expected) throw new SettingsError(`the initial noise has ${given.length} values, expected ${expected} (1x${C}x${h}x${w})`, { field: 'initNoise', kind: 'format' });
  return given;
}

/** The state of a picture noised to level abar with the run's noise: sqrt(abar) x0 + sqrt(1 - abar) eps (DDPM's q(x_t | x_0)). */
function noised(clean: Float32Array, noise: Float32Array, abar: number): Float32Array {
  const a = Math.sqrt(abar);
  const s = Math.sqrt(1 - abar);
  return clean.map((v, i) => a * v + s * noise[i]);
}

/** The run; the pipeline has checked the settings it alone knows about (checkStepCount first). */
export async function runPipeline(settings: Settings, inputs: PipelineInputs, parts: RunParts): Promise<PipelineResult> {
  const { space } = parts;
  const { width: W, height: H, task } = settings;
  const generator = new TorchGenerator(settings.seed);
  const noise = initialNoise(inputs.initNoise, generator, space.shape);
  const spacing = Array.isArray(settings.spacing) ? { explicit: settings.spacing } : settings.spacing;
  const fullPlan = planFor(parts.scheduler, settings.steps, spacing, settings.solver);

  // img2img and inpainting start from the picture (in the sampler's space); strength < 1 runs
  // only the last int(steps * strength) steps, from the picture noised to the first of them.
  let x: Float32Array = Float32Array.from(noise);
  let skipSteps = 0;
  let picture: Float32Array | undefined;
  let initState: Float32Array | undefined;
  let masks: InpaintMasks | undefined;
  if (task === 'img2img' || task === 'inpaint') {
    picture = space.pictureTensor(requireSized(inputs.initImage, 'initImage', task === 'inpaint' ? 'the picture to inpaint' : 'the starting picture', W, H));
    if (task === 'inpaint') {
      masks = inpaintMasks(requireSized(inputs.mask, 'mask', 'the mask', W, H, 'white = repaint, black = keep'), space.factor);
    }
    skipSteps = stepsToSkip(settings.steps, settings.strength);
    initState = await space.encode(picture);
    if (task === 'img2img' || skipSteps > 0) x = noised(initState, noise, fullPlan.steps[skipSteps].point.abar);
  } else if (settings.strength !== 1) {
    throw new SettingsError(`strength applies to img2img and inpaint (task ${task})`, { field: 'strength', kind: 'unsupported' });
  }
  const plan = skipSteps ? skipPlan(fullPlan, skipSteps) : fullPlan;

  // After every step, before the next one and before progress: inpainting blends its known
  // region in, colorize / super-resolution replace the measured component (knownRegion.ts).
  let stateHook: StateHook | undefined;
  if (masks && parts.blendKnownRegion) {
    const region = { known: initState!, repaint: masks.state, noise };
    stateHook = (state, stepIndex) => blendKnownRegion(region, plan, state, stepIndex);
  } else if (parts.measurement) {
    const measurement = parts.measurement;
    stateHook = (state, stepIndex) => replaceMeasurement(measurement, space.shape, noise, plan, state, stepIndex);
  }
  const onStep = inputs.onStep;

  const result = await sample({
    predictor: await parts.predictor(masks && picture ? { picture, masks } : undefined),
    classifier: parts.classifier,
    scheduler: parts.scheduler,
    shape: space.shape,
    rows: 1,
    solver: settings.solver,
    steps: settings.steps,
    spacing,
    eta: settings.eta,
    noise: generator,
    guidance: parts.guidance,
    conditionAt: settings.conditionAt,
    clipX0: parts.clipX0,
    initial: x,
    skipSteps,
    signal: inputs.signal,
    stateHook,
    onStep: onStep && ((p) => onStep({ ...p, x0: space.preview(p.x0) })),
  });

  const decoded = await space.decode(result.x);
  // Inpainting: the known pixels go back with the feathered mask (a VAE round trip alters them
  // slightly, and a 9-channel UNet does not keep them by itself).
  const final = masks && picture ? pasteBack(decoded, picture, masks.pixel) : decoded;
  const { channels: C, height: h, width: w } = space.shape;
  return {
    x: result.x,
    shape: [1, C, h, w],
    image: tensorToImage(final, space.imageChannels, W, H),
    decoded,
    cost: result.cost,
    samplingMs: result.wallMs,
    timesteps: [...result.plan.timesteps],
    warnings: parts.warnings,
    condIds: parts.prompt?.condIds,
    uncondIds: parts.prompt?.uncondIds,
    initState,
    masks,
  };
}
