/**
 * The pixel-space pipeline: model folder -> ONNX sessions -> engine run -> image.
 * Tasks: txt2img, img2img (diffusers' strength semantics), inpaint (the known region blended
 * in at every step, knownRegion.ts) and the data-consistency restorations colorize /
 * super-resolution. Guidance terms (CFG, classifier, consistency) combine freely.
 */
import type { GenerationSettings } from '../../../shared/settings';
import { type ConsistencyOperator, LUMA_WEIGHTS, type ImageShape } from '../engine/guidance/consistency';
import type { Guidance } from '../engine/guidance/denoiser';
import { SettingsError } from '../engine/errors';
import { torchRandn } from '../engine/noise/torchRandn';
import { type StepProgress, planFor, sample, skipPlan } from '../engine/sampler';
import { usesConsistency } from '../../../shared/runShape';
import type { ModelFolder } from '../models/modelFolder';
import { type OpenedSession, type ProviderName, type SkippedProvider, openSession } from '../runtime/sessions';
import { type RgbaImage, imageToTensor, tensorToImage } from './images';
import { type PixelInputs, type PixelResult, checkStepCount, requireSized, stepsToSkip } from './common';
import { type InpaintMasks, type KnownRegion, blendKnownRegion, inpaintMasks, pasteBack, replaceMeasurement } from './knownRegion';
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

export type { PixelInputs, PixelResult } from './common';
export { stepsToSkip } from './common';

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

/** A picture as a C-channel tensor in [-1, 1]: RGB, or its luma for a 1-channel model. */
function pictureTensor(image: RgbaImage, channels: number): Float32Array {
  const rgb = imageToTensor(image);
  if (channels === 3) return rgb;
  return lumaOf(rgb, image.width * image.height);
}

function lumaOf(rgb: Float32Array, hw: number): Float32Array {
  const gray = new Float32Array(hw);
  for (let p = 0; p < hw; p++) gray[p] = LUMA_WEIGHTS[0] * rgb[p] + LUMA_WEIGHTS[1] * rgb[hw + p] + LUMA_WEIGHTS[2] * rgb[2 * hw + p];
  return gray;
}

/** A measurement y = A x of the picture: colorize's gray levels, super-resolution's small picture. */
type MeasurementOperator = Exclude<ConsistencyOperator, { kind: 'inpaint' }>;

/** The measurement operator of colorize and super-resolution (A and y of spec section 1), checked against the inputs. */
function measurementOperator(settings: GenerationSettings, shape: ImageShape, inputs: PixelInputs): MeasurementOperator {
  const { width, height } = shape;
  if (settings.task === 'colorize') {
    const rgb = imageToTensor(requireSized(inputs.initImage, '--init-image', 'the gray picture', width, height));
    return { kind: 'colorize', gray: lumaOf(rgb, width * height) };
  }
  const low = inputs.initImage;
  if (!low) throw new SettingsError('super-resolution needs --init-image (the low-resolution picture)');
  const factor = width / low.width;
  if (!Number.isInteger(factor) || factor < 2 || height / low.height !== factor) {
    throw new SettingsError(`--init-image is ${low.width}x${low.height}; super-resolution needs ${width}x${height} divided by a whole factor >= 2`);
  }
  return { kind: 'super-resolution', low: pictureTensor(low, shape.channels), factor };
}

/** Every guidance term the settings ask for; the engine adds them up. */
function buildGuidance(settings: GenerationSettings, model: PixelModel, classifier: boolean, measurement: MeasurementOperator | undefined): Guidance {
  const guidance: Guidance = { cfg: settings.guidance };
  if (settings.classLabel !== null && settings.classifierScale > 0) {
    if (!classifier) throw new SettingsError(`${model.folder.name} has no classifier: --class and --classifier-scale need classifier/model.onnx`);
    guidance.classifier = { scale: settings.classifierScale, labels: [settings.classLabel] };
  }
  if (measurement) guidance.consistency = { scale: settings.consistencyScale, operator: measurement };
  return guidance;
}

export async function generatePixel(model: PixelModel, settings: GenerationSettings, inputs: PixelInputs = {}): Promise<PixelResult> {
  if (model.latent) return generateLatent(model.latent, settings, inputs);
  checkStepCount(settings);
  const shape = resolveSize(model, settings);
  const { channels: C, width: W, height: H } = shape;
  const size = C * H * W;
  const wantsClassifier = settings.classLabel !== null && settings.classifierScale > 0;
  const classifierSession = wantsClassifier ? await model.classifier() : undefined;
  const measurement = usesConsistency(settings.task) ? measurementOperator(settings, shape, inputs) : undefined;
  const guidance = buildGuidance(settings, model, classifierSession !== undefined, measurement);
  const warnings: string[] = [];
  const text = await encodePrompts(model, settings, warnings);
  const spacing = Array.isArray(settings.spacing) ? { explicit: settings.spacing } : settings.spacing;
  const scheduler = model.folder.scheduler;

  let noise: Float32Array;
  if (inputs.initNoise) {
    if (inputs.initNoise.length !== size) throw new SettingsError(`--init-noise has ${inputs.initNoise.length} values, expected ${size} (1x${C}x${H}x${W})`);
    noise = inputs.initNoise;
  } else {
    noise = torchRandn(settings.seed, [1, C, H, W]);
  }
  const x = Float32Array.from(noise);

  // img2img and inpainting: the picture itself; strength < 1 starts from it noised to the first
  // remaining timestep (diffusers' rule). Inpainting blends its known region back in after
  // every step and pastes the kept pixels back at the end (knownRegion.ts).
  let skipSteps = 0;
  let picture: Float32Array | undefined;
  let masks: InpaintMasks | undefined;
  const fullPlan = planFor(scheduler, settings.steps, spacing);
  if (settings.task === 'img2img' || settings.task === 'inpaint') {
    const what = settings.task === 'inpaint' ? 'the picture to inpaint' : 'the starting picture';
    picture = pictureTensor(requireSized(inputs.initImage, '--init-image', what, W, H), C);
    if (settings.task === 'inpaint') masks = inpaintMasks(requireSized(inputs.mask, '--mask', 'white = repaint, black = keep', W, H), 1);
    skipSteps = stepsToSkip(settings.steps, settings.strength);
    if (settings.task === 'img2img' || skipSteps > 0) {
      const start = fullPlan.steps[skipSteps].point;
      const a = Math.sqrt(start.abar);
      const s = Math.sqrt(1 - start.abar);
      for (let i = 0; i < size; i++) x[i] = a * picture[i] + s * x[i];
    }
  } else if (settings.strength !== 1) {
    throw new SettingsError(`--strength applies to img2img and inpaint (task ${settings.task})`);
  }
  const plan = skipSteps ? skipPlan(fullPlan, skipSteps) : fullPlan;
  // After every step: inpainting blends its known region in, colorize / super-resolution
  // replace the measured component (knownRegion.ts); then progress is reported.
  const region: KnownRegion | undefined = masks && picture && { known: picture, repaint: masks.state, noise: Float32Array.from(noise) };
  const initialNoise = Float32Array.from(noise);
  const keepKnown = region
    ? (index: number) => blendKnownRegion(region, plan, x, index)
    : measurement
      ? (index: number) => replaceMeasurement(measurement, shape, initialNoise, plan, x, index)
      : undefined;
  const onStep = keepKnown
    ? async (p: StepProgress) => {
        keepKnown(p.step - 1);
        await inputs.onStep?.(p);
      }
    : inputs.onStep;

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
    onStep,
  });
  const final = masks && picture ? pasteBack(result.x, picture, masks.pixel) : result.x;
  return {
    x: result.x,
    shape: [1, C, H, W],
    image: tensorToImage(final, C, W, H),
    cost: result.cost,
    samplingMs: result.wallMs,
    timesteps: [...result.plan.timesteps],
    warnings,
  };
}
