/**
 * The pixel-space pipeline: model folder -> ONNX sessions -> engine run -> image.
 * Tasks: txt2img, img2img (diffusers' strength semantics), and the data-consistency
 * restorations inpaint / colorize / super-resolution.
 */
import type { GenerationSettings } from '../../shared/settings';
import { type ConsistencyOperator, LUMA_WEIGHTS, type ImageShape } from '../engine/guidance/consistency';
import type { Guidance } from '../engine/guidance/denoiser';
import { SettingsError } from '../engine/errors';
import type { CostCounter } from '../engine/model';
import { torchRandn } from '../engine/noise/torchRandn';
import { type StepProgress, planFor, sample } from '../engine/sampler';
import type { ModelFolder } from '../models/modelFolder';
import { type OpenedSession, type ProviderName, type SkippedProvider, openSession } from '../runtime/sessions';
import { type RgbaImage, imageToTensor, maskToKnown, tensorToImage } from './images';
import { ModelInputError, OnnxClassifier, OnnxNoisePredictor, type TextConditioning, type UnetSignature, readUnetSignature } from './onnxPixel';
import { type LatentModel, generateLatent, openLatentModel } from './latent';
import { OnnxTextEncoder, encodePromptPair } from './textEncoder';
import { folderTokenizer } from './tokenizers/load';
import type { PromptTokenizer } from './tokenizers/wordLevel';

export interface PixelModel {
  folder: ModelFolder;
  unet: OpenedSession;
  /**
   * The UNet's signature. For latent (Stable Diffusion) models this is the image side the
   * callers see: 3 channels and the pixel size when the UNet fixes one (null = free); the
   * UNet's own signature is `latent.signature`.
   */
  signature: UnetSignature;
  text?: { tokenizer: PromptTokenizer; encoder: OnnxTextEncoder };
  /** The classifier session, opened on first use (most runs never need it). */
  classifier(): Promise<OpenedSession | undefined>;
  provider: ProviderName;
  skippedProviders: SkippedProvider[];
  loadMs: number;
  /** Set for latent (VAE) model folders: generatePixel hands the run to the latent pipeline. */
  latent?: LatentModel;
}

/** A latent model behind the PixelModel interface, so the CLI, the engine process and the studio use it unchanged. */
function latentAsPixelModel(latent: LatentModel): PixelModel {
  const { signature } = latent;
  return {
    folder: latent.folder,
    unet: latent.unetOpened,
    signature: {
      sample: signature.sample,
      timestep: signature.timestep,
      hiddenStates: signature.hiddenStates,
      channels: 3,
      height: signature.latentHeight === null ? null : signature.latentHeight * 8,
      width: signature.latentWidth === null ? null : signature.latentWidth * 8,
      outputName: signature.outputName,
    },
    text: latent.text,
    classifier: () => Promise.resolve(undefined),
    provider: latent.provider,
    skippedProviders: latent.skippedProviders,
    loadMs: latent.loadMs,
    latent,
  };
}

export async function openPixelModel(folder: ModelFolder, providers: readonly ProviderName[]): Promise<PixelModel> {
  if (folder.kind === 'latent') return latentAsPixelModel(await openLatentModel(folder, providers));
  const started = performance.now();
  const unet = await openSession(folder.unetPath, providers);
  const signature = readUnetSignature(unet.session, 'unet/model.onnx');
  if (signature.channels !== 3 && signature.channels !== 1) {
    throw new ModelInputError(`unet/model.onnx: a pixel model's "sample" needs 1 or 3 channels, this one has ${signature.channels}`);
  }
  let text: PixelModel['text'];
  if (folder.textEncoderPath) {
    const tokenizer = folderTokenizer(folder);
    text = { tokenizer, encoder: new OnnxTextEncoder(await openSession(folder.textEncoderPath, [unet.provider])) };
  } else if (signature.hiddenStates) {
    throw new ModelInputError(`${folder.dir}: unet/model.onnx takes encoder_hidden_states but the folder has no text_encoder/`);
  }
  let classifier: Promise<OpenedSession | undefined> | undefined;
  return {
    folder,
    unet,
    signature,
    text,
    classifier: () => (classifier ??= folder.classifierPath ? openSession(folder.classifierPath, [unet.provider]) : Promise.resolve(undefined)),
    provider: unet.provider,
    skippedProviders: unet.skipped,
    loadMs: performance.now() - started,
  };
}

/** Prompt and negative prompt as embeddings, in one batch-2 text-encoder call. */
export async function encodePrompts(model: PixelModel, settings: GenerationSettings, warnings: string[]): Promise<TextConditioning | undefined> {
  if (!model.text) {
    if (settings.prompt || settings.negativePrompt) throw new SettingsError(`${model.folder.name} has no text encoder, so a prompt cannot be used`);
    return undefined;
  }
  const { uncond, cond, tokens, dim } = await encodePromptPair(model.text.tokenizer, model.text.encoder, settings.prompt, settings.negativePrompt, warnings);
  return { uncond, cond, tokens, dim };
}

export interface PixelInputs {
  /** x_T for all rows; default: torch-compatible randn(seed). */
  initNoise?: Float32Array;
  initImage?: RgbaImage;
  mask?: RgbaImage;
  signal?: AbortSignal;
  /** Progress after each step; for latent models `x0` is an RGB preview [3, H, W] (latent.ts latentPreview), not the latent. */
  onStep?: (progress: StepProgress) => void | Promise<void>;
}

export interface PixelResult {
  /** Final state in model space: pixels in [-1, 1], [1, C, H, W]; for latent models the latent before decoding, [1, 4, H/8, W/8]. */
  x: Float32Array;
  shape: [number, number, number, number];
  image: RgbaImage;
  cost: CostCounter;
  samplingMs: number;
  timesteps: number[];
  /** Things the user should know (unknown words, truncated prompt). */
  warnings: string[];
}

export function resolveSize(model: PixelModel, settings: Pick<GenerationSettings, 'width' | 'height'>): ImageShape {
  const { signature } = model;
  const check = (name: 'width' | 'height', fixedSize: number | null) => {
    const wanted = settings[name];
    if (fixedSize !== null && wanted !== fixedSize) {
      throw new SettingsError(`this model only makes ${signature.width}x${signature.height} images; --${name} ${wanted} is not possible`);
    }
    return wanted;
  };
  return { channels: signature.channels, width: check('width', signature.width), height: check('height', signature.height) };
}

/** diffusers' img2img strength: run the last int(N * strength) steps. */
export function stepsToSkip(steps: number, strength: number): number {
  if (!(strength > 0 && strength <= 1)) throw new SettingsError(`strength must be in (0, 1], got ${strength}`);
  const run = Math.min(Math.floor(steps * strength), steps);
  if (run < 1) throw new SettingsError(`strength ${strength} with ${steps} steps runs no step; raise one of them`);
  return steps - run;
}

function requireImage(image: RgbaImage | undefined, what: string, width: number, height: number): RgbaImage {
  if (!image) throw new SettingsError(`this task needs --init-image (${what})`);
  if (image.width !== width || image.height !== height) {
    throw new SettingsError(`--init-image is ${image.width}x${image.height}, but the model makes ${width}x${height} images`);
  }
  return image;
}

function buildGuidance(settings: GenerationSettings, model: PixelModel, hasClassifier: boolean, shape: ImageShape, inputs: PixelInputs): Guidance {
  const wantsClassifier = settings.classLabel !== null && settings.classifierScale > 0;
  const wantsCfg = settings.guidance !== 1;
  const restoration = settings.task === 'inpaint' || settings.task === 'colorize' || settings.task === 'super-resolution';
  const active = [wantsClassifier && 'classifier guidance', wantsCfg && 'classifier-free guidance', restoration && settings.task].filter(Boolean);
  if (active.length > 1) throw new SettingsError(`choose one kind of guidance per run, not ${active.join(' and ')}`);
  if (wantsClassifier) {
    if (!hasClassifier) throw new SettingsError(`${model.folder.name} has no classifier: --class and --classifier-scale need classifier/model.onnx`);
    return { kind: 'classifier', scale: settings.classifierScale, labels: [settings.classLabel!] };
  }
  if (wantsCfg) return { kind: 'cfg', scale: settings.guidance };
  if (!restoration) return { kind: 'none' };
  const { width, height } = shape;
  let operator: ConsistencyOperator;
  if (settings.task === 'inpaint') {
    const known = imageToTensor(requireImage(inputs.initImage, 'the picture to inpaint', width, height));
    const mask = inputs.mask;
    if (!mask) throw new SettingsError('inpainting needs --mask (white = repaint, black = keep)');
    if (mask.width !== width || mask.height !== height) {
      throw new SettingsError(`--mask is ${mask.width}x${mask.height}, but the image is ${width}x${height}`);
    }
    operator = { kind: 'inpaint', mask: maskToKnown(mask), known };
  } else if (settings.task === 'colorize') {
    const rgb = imageToTensor(requireImage(inputs.initImage, 'the gray picture', width, height));
    const hw = width * height;
    const gray = new Float32Array(hw);
    for (let p = 0; p < hw; p++) gray[p] = LUMA_WEIGHTS[0] * rgb[p] + LUMA_WEIGHTS[1] * rgb[hw + p] + LUMA_WEIGHTS[2] * rgb[2 * hw + p];
    operator = { kind: 'colorize', gray };
  } else {
    const low = inputs.initImage;
    if (!low) throw new SettingsError('super-resolution needs --init-image (the low-resolution picture)');
    const factor = width / low.width;
    if (!Number.isInteger(factor) || factor < 2 || height / low.height !== factor) {
      throw new SettingsError(`--init-image is ${low.width}x${low.height}; super-resolution needs ${width}x${height} divided by a whole factor >= 2`);
    }
    operator = { kind: 'super-resolution', low: imageToTensor(low), factor };
  }
  return { kind: 'consistency', scale: settings.consistencyScale, operator };
}

export async function generatePixel(model: PixelModel, settings: GenerationSettings, inputs: PixelInputs = {}): Promise<PixelResult> {
  if (model.latent) return generateLatent(model.latent, settings, inputs);
  const shape = resolveSize(model, settings);
  const { channels: C, width: W, height: H } = shape;
  const size = C * H * W;
  const wantsClassifier = settings.classLabel !== null && settings.classifierScale > 0;
  const classifierSession = wantsClassifier ? await model.classifier() : undefined;
  const guidance = buildGuidance(settings, model, classifierSession !== undefined, shape, inputs);
  const warnings: string[] = [];
  const text = await encodePrompts(model, settings, warnings);
  const spacing = Array.isArray(settings.spacing) ? { explicit: settings.spacing } : settings.spacing;
  const scheduler = model.folder.scheduler;

  let x: Float32Array;
  if (inputs.initNoise) {
    if (inputs.initNoise.length !== size) throw new SettingsError(`--init-noise has ${inputs.initNoise.length} values, expected ${size} (1x${C}x${H}x${W})`);
    x = Float32Array.from(inputs.initNoise);
  } else {
    x = torchRandn(settings.seed, [1, C, H, W]);
  }

  // img2img: start from the init image noised to the first remaining timestep.
  let skipSteps = 0;
  if (settings.task === 'img2img') {
    const init = imageToTensor(requireImage(inputs.initImage, 'the starting picture', W, H));
    skipSteps = stepsToSkip(settings.steps, settings.strength);
    const start = planFor(scheduler, settings.steps, spacing).steps[skipSteps].point;
    const a = Math.sqrt(start.abar);
    const s = Math.sqrt(1 - start.abar);
    for (let i = 0; i < size; i++) x[i] = a * init[i] + s * x[i];
  } else if (settings.strength !== 1) {
    throw new SettingsError(`--strength applies to img2img only (task ${settings.task})`);
  }

  const classifier = classifierSession && new OnnxClassifier(classifierSession, model.folder.classLabels!.length, shape, 'classifier/model.onnx');
  const result = await sample({
    predictor: new OnnxNoisePredictor(model.unet, model.signature, shape, text),
    classifier,
    scheduler,
    shape,
    rows: 1,
    solver: settings.solver,
    steps: settings.steps,
    spacing,
    guidance,
    conditionAt: settings.conditionAt,
    clipX0: settings.clipX0 ?? undefined,
    initial: x,
    skipSteps,
    signal: inputs.signal,
    onStep: inputs.onStep,
  });
  return {
    x: result.x,
    shape: [1, C, H, W],
    image: tensorToImage(result.x, C, W, H),
    cost: result.cost,
    samplingMs: result.wallMs,
    timesteps: [...result.plan.timesteps],
    warnings,
  };
}
