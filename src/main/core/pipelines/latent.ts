/**
 * The latent (Stable Diffusion 1.x / 2.x) pipeline for diffusers' ONNX folders:
 * CLIP tokenizer -> text encoder -> engine run on latents (every solver, CFG as one batch-2
 * UNet call [uncond, cond]) -> VAE decoder -> image. Tasks: txt2img, img2img (diffusers'
 * strength), inpainting with a 4-channel UNet (the known region's latent, noised to the level
 * the state is at, blended back after every step with a feathered mask) or with a 9-channel
 * inpainting UNet ([latent, mask, masked-image latent] concatenated, diffusers' order).
 *
 * Model facts are read from the ONNX metadata, never assumed: input_ids int32/int64, timestep
 * type (float32, float16, int64, ...) and rank (scalar, [1], [batch], ...), float16 or float32
 * inputs and outputs (converted at the boundary), UNet channels (4 or 9), fixed or free sizes.
 * Sessions open from the file path, so external weights (weights.pb) next to model.onnx load.
 *
 * Execution providers that need fixed shapes (DirectML, CoreML) get one session per
 * resolution, its symbolic input sizes fixed (runtime/onnxShapes.ts; batch stays free, so CFG
 * and unguided calls share a session); CPU and CUDA use one session with free dimensions.
 */
import { existsSync } from 'node:fs';
import { MAX_CONFIG_BYTES, readJsonBounded } from '../io/json';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { GenerationSettings } from '../../../shared/settings';
import { SettingsError } from '../engine/errors';
import type { Guidance } from '../engine/guidance/denoiser';
import type { Branch, NoisePredictor } from '../engine/model';
import { torchRandn } from '../engine/noise/torchRandn';
import type { SamplingPlan } from '../engine/plan';
import { type StepProgress, planFor, sample, skipPlan } from '../engine/sampler';
import type { ModelFolder } from '../models/modelFolder';
import { float32ToHalf, halfToFloat32 } from '../runtime/float16';
import { type InputSpec, type OpenedSession, type ProviderName, type SessionExtras, type SkippedProvider, defaultThreads, firstLine, inputSpecs, openSession } from '../runtime/sessions';
import { imageToTensor, tensorToImage } from './images';
import { type PixelInputs, type PixelResult, checkStepCount, requireSized, stepsToSkip } from './common';
import { type InpaintMasks, type KnownRegion, blendKnownRegion, inpaintMasks, pasteBack } from './knownRegion';
import { ModelInputError } from './onnxPixel';
import { OnnxTextEncoder, type PromptPair, encodePromptPair } from './textEncoder';
import { folderTokenizer } from './tokenizers/load';
import type { PromptTokenizer } from './tokenizers/wordLevel';

/** A network produced values that cannot be turned into an image (NaN, infinities, all black). */
export class NumericalError extends ModelInputError {
  constructor(message: string) {
    super(message);
    this.name = 'NumericalError';
  }
}

export const VAE_NAN_MESSAGE = 'the VAE produced NaN values — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider';
export const VAE_BLACK_MESSAGE = 'the VAE produced an all-black image — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider';
export const UNET_NAN_MESSAGE = 'the UNet produced NaN or infinite values — usually an fp16 UNet overflow; use an fp32 model or the CPU provider';

export const DEFAULT_SCALING_FACTOR = 0.18215;
/** Latent cells per image pixel side. */
export const VAE_FACTOR = 8;

/** Fixed-size sessions kept per network (each holds its own copy of the weights on the device). */
export const MAX_FIXED_SESSIONS = 2;

/** Providers that run much faster (or only) with fixed input sizes. */
export const FIXED_DIMENSION_PROVIDERS: ReadonlySet<ProviderName> = new Set<ProviderName>(['dml', 'coreml']);

export type FloatType = 'float32' | 'float16';

export function floatTensor(type: FloatType, data: Float32Array, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', float32ToHalf(data), dims) : new ort.Tensor('float32', data, dims);
}

export function tensorToFloat32(tensor: ort.Tensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return halfToFloat32(tensor.data as Uint16Array);
  throw new ModelInputError(`${what} is ${tensor.type}, expected float32 or float16`);
}

/**
 * A timestep tensor of the model's declared type and shape, of any rank: symbolic first
 * dimensions take the batch size, other symbolic dimensions 1, fixed ones their size.
 */
export function timestepFeed(spec: InputSpec, timestep: number, batch: number): ort.Tensor {
  const dims = spec.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? batch : 1));
  const count = dims.reduce((a, b) => a * b, 1);
  switch (spec.type) {
    case 'float32':
      return new ort.Tensor('float32', new Float32Array(count).fill(timestep), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToHalf(new Float32Array(count).fill(timestep)), dims);
    case 'float64':
      return new ort.Tensor('float64', new Float64Array(count).fill(timestep), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(count).fill(BigInt(Math.round(timestep))), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(count).fill(Math.round(timestep)), dims);
    default:
      throw new ModelInputError(`input "timestep" has type ${spec.type}; supported: float32, float16, float64, int64, int32`);
  }
}

/**
 * One ONNX file on one execution provider. With free dimensions it is one session; for
 * fixed-dimension providers it is one session per set of concrete sizes (a resolution),
 * opened on first use with those sizes fixed in the model and cached.
 */
export class OnnxComponent {
  readonly provider: ProviderName;
  readonly inputs: Map<string, InputSpec>;
  readonly outputNames: readonly string[];
  /** Fixed-size sessions opened so far, by their overrides. */
  readonly fixedSessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly batchNames = new Set<string>();
  private base: ort.InferenceSession | undefined;

  constructor(
    readonly file: string,
    private readonly modelPath: string,
    opened: OpenedSession,
    readonly fixedDimensions: boolean,
    private readonly threads: number,
  ) {
    this.base = opened.session;
    this.provider = opened.provider;
    this.inputs = inputSpecs(opened.session);
    this.outputNames = [...opened.session.outputNames];
    for (const spec of this.inputs.values()) {
      const first = spec.shape[0];
      if (spec.shape.length >= 1 && typeof first === 'string') this.batchNames.add(first);
    }
  }

  /** The sizes to fix for these feeds: every symbolic non-batch input dimension, by name. */
  overridesFor(feeds: Record<string, ort.Tensor>): Record<string, number> {
    const overrides: Record<string, number> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const spec = this.inputs.get(name);
      if (!spec || spec.shape.length < 2) continue;
      spec.shape.forEach((d, i) => {
        if (i > 0 && typeof d === 'string' && d !== '' && !this.batchNames.has(d)) overrides[d] = tensor.dims[i];
      });
    }
    return overrides;
  }

  private async sessionFor(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession> {
    if (!this.fixedDimensions) return this.base!;
    const overrides = this.overridesFor(feeds);
    if (Object.keys(overrides).length === 0 && this.base) return this.base; // nothing free to fix
    const key = JSON.stringify(Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)));
    let pending = this.fixedSessions.get(key);
    if (pending) {
      // Most recently used last.
      this.fixedSessions.delete(key);
      this.fixedSessions.set(key, pending);
    } else {
      // Bound the memory: keep the sessions of the last MAX_FIXED_SESSIONS sizes (runs are sequential).
      while (this.fixedSessions.size >= MAX_FIXED_SESSIONS) {
        const [oldest, session] = this.fixedSessions.entries().next().value!;
        this.fixedSessions.delete(oldest);
        await session.then((s) => s.release()).catch(() => undefined);
      }
      pending = openSession(this.modelPath, [this.provider], this.threads, { fixedDimensions: overrides })
        .then((opened) => opened.session)
        .catch((error) => {
          this.fixedSessions.delete(key);
          throw new ModelInputError(`${this.file}: could not open a fixed-size session (${key}) on ${this.provider}: ${firstLine(error)}`);
        });
      this.fixedSessions.set(key, pending);
      // The free-dimension session served only to read the metadata: free its memory.
      const base = this.base;
      this.base = undefined;
      await base?.release();
    }
    return pending;
  }

  async run(feeds: Record<string, ort.Tensor>, outputs?: readonly string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    const session = await this.sessionFor(feeds);
    return outputs ? session.run(feeds, outputs) : session.run(feeds);
  }
}

export interface LatentUnetSignature {
  sample: InputSpec;
  timestep: InputSpec;
  hiddenStates?: InputSpec;
  /** 4, or 9 for an inpainting UNet (latent + mask + masked-image latent). */
  channels: 4 | 9;
  floatType: FloatType;
  hiddenType: FloatType;
  /** Fixed latent size, or null where free. */
  latentHeight: number | null;
  latentWidth: number | null;
  outputName: string;
}

const fixedDim = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
const isFloatType = (t: string): t is FloatType => t === 'float32' || t === 'float16';

/**
 * diffusers' own export leaves the channel dimension free ("channels"), so when the model does
 * not fix it the folder says it: unet/config.json's in_channels (Optimum and Olive write it), else
 * an inpainting pipeline class in model_index.json (9 channels), else 4.
 */
export function declaredUnetChannels(folder: Pick<ModelFolder, 'dir' | 'className'>): number {
  const file = path.join(folder.dir, 'unet', 'config.json');
  if (existsSync(file)) {
    try {
      const json = readJsonBounded(file, MAX_CONFIG_BYTES, 'unet/config.json', (m) => new ModelInputError(m)) as { in_channels?: unknown } | null;
      if (Number.isInteger(json?.in_channels)) return json!.in_channels as number;
    } catch {
      // an unreadable optional config: fall through to the pipeline class
    }
  }
  return /inpaint/i.test(folder.className) ? 9 : 4;
}

export function readLatentUnetSignature(inputs: Map<string, InputSpec>, outputNames: readonly string[], file = 'unet/model.onnx', declaredChannels = 4): LatentUnetSignature {
  const listed = [...inputs.keys()].join(', ');
  const sampleSpec = inputs.get('sample');
  const timestep = inputs.get('timestep');
  if (!sampleSpec) throw new ModelInputError(`${file}: no input named "sample" (inputs: ${listed})`);
  if (!timestep) throw new ModelInputError(`${file}: no input named "timestep" (inputs: ${listed})`);
  if (inputs.has('text_embeds') || inputs.has('time_ids')) throw new ModelInputError(`${file}: takes text_embeds/time_ids (Stable Diffusion XL), which this build does not run`);
  for (const name of inputs.keys()) {
    if (!['sample', 'timestep', 'encoder_hidden_states'].includes(name)) throw new ModelInputError(`${file}: unexpected input "${name}" (known: sample, timestep, encoder_hidden_states)`);
  }
  if (sampleSpec.shape.length !== 4) throw new ModelInputError(`${file}: input "sample" has rank ${sampleSpec.shape.length}, expected 4 ([batch, channels, height, width])`);
  if (!isFloatType(sampleSpec.type)) throw new ModelInputError(`${file}: input "sample" is ${sampleSpec.type}, expected float32 or float16`);
  const channels = fixedDim(sampleSpec.shape[1]) ?? declaredChannels;
  if (channels !== 4 && channels !== 9) {
    throw new ModelInputError(`${file}: a latent UNet's "sample" needs 4 channels (or 9 for inpainting), this one has ${channels}`);
  }
  const hidden = inputs.get('encoder_hidden_states');
  if (hidden && (hidden.shape.length !== 3 || !isFloatType(hidden.type))) {
    throw new ModelInputError(`${file}: "encoder_hidden_states" must be float32 or float16 of rank 3, is ${hidden.type} of rank ${hidden.shape.length}`);
  }
  if (!['float32', 'float16', 'float64', 'int64', 'int32'].includes(timestep.type)) {
    throw new ModelInputError(`${file}: input "timestep" has type ${timestep.type}; supported: float32, float16, float64, int64, int32`);
  }
  return {
    sample: sampleSpec,
    timestep,
    hiddenStates: hidden,
    channels,
    floatType: sampleSpec.type,
    hiddenType: hidden && isFloatType(hidden.type) ? hidden.type : 'float32',
    latentHeight: fixedDim(sampleSpec.shape[2]),
    latentWidth: fixedDim(sampleSpec.shape[3]),
    outputName: outputNames.includes('out_sample') ? 'out_sample' : outputNames[0],
  };
}

export interface LatentModel {
  folder: ModelFolder;
  unet: OnnxComponent;
  /** The UNet's first session as opened (released later when fixed-size sessions replace it). */
  unetOpened: OpenedSession;
  signature: LatentUnetSignature;
  text?: { tokenizer: PromptTokenizer; encoder: OnnxTextEncoder };
  decoder: OnnxComponent;
  /** The VAE encoder, opened on first use (txt2img never needs it). */
  encoder(): Promise<OnnxComponent>;
  scalingFactor: number;
  /** Where the scaling factor came from (shown in reports). */
  scalingFactorSource: string;
  provider: ProviderName;
  /** Providers skipped for the UNet, and for the other networks (their reason names the file). */
  skippedProviders: SkippedProvider[];
  fixedDimensions: boolean;
  loadMs: number;
}

export interface LatentOpenOptions {
  /** 'auto': fixed sizes for the providers in FIXED_DIMENSION_PROVIDERS only. */
  fixedDimensions?: 'auto' | 'always' | 'never';
  threads?: number;
}

function readScalingFactor(folder: ModelFolder): { value: number; source: string } {
  const file = path.join(folder.dir, 'vae_decoder', 'config.json');
  if (!existsSync(file)) return { value: DEFAULT_SCALING_FACTOR, source: `default ${DEFAULT_SCALING_FACTOR} (no vae_decoder/config.json)` };
  const json = readJsonBounded(file, MAX_CONFIG_BYTES, 'vae_decoder/config.json', (m) => new ModelInputError(`${folder.dir}: ${m}`));
  const v = (json as Record<string, unknown> | null)?.scaling_factor;
  if (v === undefined || v === null) return { value: DEFAULT_SCALING_FACTOR, source: `default ${DEFAULT_SCALING_FACTOR} (vae_decoder/config.json has no scaling_factor)` };
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ModelInputError(`${folder.dir}: vae_decoder/config.json "scaling_factor" must be a positive number, got ${typeof v === 'number' ? v : `a ${Array.isArray(v) ? 'list' : typeof v}`}`);
  return { value: v, source: `vae_decoder/config.json (${v})` };
}

export async function openLatentModel(folder: ModelFolder, providers: readonly ProviderName[], options: LatentOpenOptions = {}): Promise<LatentModel> {
  if (folder.kind !== 'latent' || !folder.vaeDecoderPath) throw new ModelInputError(`${folder.dir}: not a latent model (no vae_decoder/model.onnx)`);
  const started = performance.now();
  const threads = options.threads ?? defaultThreads();
  const unetOpened = await openSession(folder.unetPath, providers, threads);
  const provider = unetOpened.provider;
  const fixedDimensions = options.fixedDimensions === 'always' || (options.fixedDimensions !== 'never' && FIXED_DIMENSION_PROVIDERS.has(provider));
  const skipped: SkippedProvider[] = [...unetOpened.skipped];
  // The other networks try the UNet's provider first and then the rest of the user's list.
  const rest = providers.slice(Math.max(0, providers.indexOf(provider)));
  const openOther = async (file: string, modelPath: string, extras: SessionExtras = {}): Promise<OpenedSession> => {
    let opened: OpenedSession;
    try {
      opened = await openSession(modelPath, rest, threads, extras);
    } catch (error) {
      throw new ModelInputError(`${file}: ${firstLine(error)}`);
    }
    for (const s of opened.skipped) {
      const reason = `${file}: ${s.reason}`;
      if (!skipped.some((k) => k.provider === s.provider && k.reason === reason)) skipped.push({ provider: s.provider, reason });
    }
    return opened;
  };
  const signature = readLatentUnetSignature(inputSpecs(unetOpened.session), unetOpened.session.outputNames, 'unet/model.onnx', declaredUnetChannels(folder));
  const unet = new OnnxComponent('unet/model.onnx', folder.unetPath, unetOpened, fixedDimensions, threads);

  let text: LatentModel['text'];
  if (folder.textEncoderPath) {
    const tokenizer = folderTokenizer(folder);
    let opened = await openOther('text_encoder/model.onnx', folder.textEncoderPath);
    const ids = inputSpecs(opened.session).get('input_ids');
    const seqName = ids?.shape[1];
    if (fixedDimensions && typeof seqName === 'string' && seqName !== '') {
      await opened.session.release();
      opened = await openOther('text_encoder/model.onnx', folder.textEncoderPath, { fixedDimensions: { [seqName]: tokenizer.maxLength } });
    }
    const encoder = new OnnxTextEncoder(opened);
    if (encoder.fixedTokens !== null && encoder.fixedTokens !== tokenizer.maxLength) {
      throw new ModelInputError(`${folder.dir}: text_encoder/model.onnx takes ${encoder.fixedTokens} tokens but the tokenizer makes ${tokenizer.maxLength}`);
    }
    text = { tokenizer, encoder };
  } else if (signature.hiddenStates) {
    throw new ModelInputError(`${folder.dir}: unet/model.onnx takes encoder_hidden_states but the folder has no text_encoder/`);
  }

  const decoder = new OnnxComponent('vae_decoder/model.onnx', folder.vaeDecoderPath, await openOther('vae_decoder/model.onnx', folder.vaeDecoderPath), fixedDimensions, threads);
  let encoder: Promise<OnnxComponent> | undefined;
  const scaling = readScalingFactor(folder);
  return {
    folder,
    unet,
    unetOpened,
    signature,
    text,
    decoder,
    encoder: () =>
      (encoder ??= (async () => {
        if (!folder.vaeEncoderPath) throw new SettingsError(`${folder.name} has no vae_encoder/model.onnx, so img2img and inpainting are not possible`);
        return new OnnxComponent('vae_encoder/model.onnx', folder.vaeEncoderPath, await openOther('vae_encoder/model.onnx', folder.vaeEncoderPath), fixedDimensions, threads);
      })().catch((error) => {
        encoder = undefined;
        throw error;
      })),
    scalingFactor: scaling.value,
    scalingFactorSource: scaling.source,
    provider,
    skippedProviders: skipped,
    fixedDimensions,
    loadMs: performance.now() - started,
  };
}

/** Inpainting UNet conditioning: the mask and the masked image's latent, per latent cell. */
interface InpaintConditioning {
  /** [h*w], 1 = repaint. */
  mask: Float32Array;
  /** [4*h*w], scaled like the latents. */
  maskedLatent: Float32Array;
}

/** The UNet on latents as the engine's NoisePredictor: [uncond, cond] rows in one call. */
export class LatentNoisePredictor implements NoisePredictor {
  readonly sampleSize: number;
  readonly supportsUnconditional: boolean;
  private readonly buffers = new Map<number, { sample: Float32Array; hidden?: Float32Array }>();

  constructor(
    private readonly unet: OnnxComponent,
    private readonly signature: LatentUnetSignature,
    private readonly h: number,
    private readonly w: number,
    private readonly text?: PromptPair,
    private readonly inpaint?: InpaintConditioning,
  ) {
    this.sampleSize = 4 * h * w;
    this.supportsUnconditional = text !== undefined;
    if (signature.hiddenStates && !text) throw new ModelInputError('unet/model.onnx needs encoder_hidden_states: the model folder must have a text encoder');
    if (signature.channels === 9 && !inpaint) throw new SettingsError('this is an inpainting UNet (9 input channels): use --task inpaint with --init-image and --mask');
  }

  private buffersFor(batch: number) {
    let b = this.buffers.get(batch);
    if (!b) {
      b = { sample: new Float32Array(batch * this.signature.channels * this.h * this.w) };
      if (this.text && this.signature.hiddenStates) b.hidden = new Float32Array(batch * this.text.tokens * this.text.dim);
      this.buffers.set(batch, b);
    }
    return b;
  }

  async predict(x: Float32Array, rows: number, timestep: number, branches: readonly Branch[], out: Float32Array): Promise<void> {
    const { h, w, signature } = this;
    const hw = h * w;
    const D = 4 * hw;
    const C = signature.channels;
    const per = C * hw;
    const batch = rows * branches.length;
    const buffers = this.buffersFor(batch);
    for (let b = 0; b < branches.length; b++) {
      for (let r = 0; r < rows; r++) {
        const at = (b * rows + r) * per;
        buffers.sample.set(x.subarray(r * D, (r + 1) * D), at);
        if (C === 9) {
          buffers.sample.set(this.inpaint!.mask, at + D);
          buffers.sample.set(this.inpaint!.maskedLatent, at + D + hw);
        }
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      sample: floatTensor(signature.floatType, buffers.sample, [batch, C, h, w]),
      timestep: timestepFeed(signature.timestep, timestep, batch),
    };
    if (buffers.hidden && this.text) {
      const text = this.text;
      const tokens = text.tokens * text.dim;
      branches.forEach((branch, b) => {
        for (let r = 0; r < rows; r++) buffers.hidden!.set(branch === 'cond' ? text.cond : text.uncond, (b * rows + r) * tokens);
      });
      feeds.encoder_hidden_states = floatTensor(signature.hiddenType, buffers.hidden, [batch, text.tokens, text.dim]);
    }
    const result = await this.unet.run(feeds, [signature.outputName]);
    const output = result[signature.outputName];
    const outChannels = output.dims[1];
    if (output.dims.length !== 4 || output.dims[0] !== batch || (outChannels !== 4 && outChannels !== 8) || output.dims[2] !== h || output.dims[3] !== w) {
      throw new ModelInputError(`unet/model.onnx output has shape [${output.dims.join(', ')}], expected [${batch}, 4, ${h}, ${w}]`);
    }
    const data = tensorToFloat32(output, 'unet/model.onnx output');
    if (outChannels === 4) out.set(data.subarray(0, batch * D));
    else for (let b = 0; b < batch; b++) out.set(data.subarray(b * 2 * D, b * 2 * D + D), b * D); // learned variance: first 4 channels
    output.dispose?.();
  }
}

/** The decoder's image for latents x [4, h, w] (unscaled by the factor first): [3, 8h, 8w], in about [-1, 1]. */
export async function vaeDecode(model: LatentModel, latent: Float32Array, h: number, w: number): Promise<Float32Array> {
  const { decoder } = model;
  const inputName = decoder.inputs.has('latent_sample') ? 'latent_sample' : [...decoder.inputs.keys()][0];
  const spec = decoder.inputs.get(inputName)!;
  if (!isFloatType(spec.type)) throw new ModelInputError(`vae_decoder/model.onnx: input "${inputName}" is ${spec.type}, expected float32 or float16`);
  const scaled = new Float32Array(latent.length);
  for (let i = 0; i < latent.length; i++) scaled[i] = latent[i] / model.scalingFactor;
  const outputName = decoder.outputNames.includes('sample') ? 'sample' : decoder.outputNames[0];
  const result = await decoder.run({ [inputName]: floatTensor(spec.type, scaled, [1, 4, h, w]) }, [outputName]);
  const out = result[outputName];
  const [H, W] = [h * VAE_FACTOR, w * VAE_FACTOR];
  if (out.dims.length !== 4 || out.dims[0] !== 1 || out.dims[1] !== 3 || out.dims[2] !== H || out.dims[3] !== W) {
    throw new ModelInputError(`vae_decoder/model.onnx output has shape [${out.dims.join(', ')}], expected [1, 3, ${H}, ${W}]`);
  }
  const image = Float32Array.from(tensorToFloat32(out, 'vae_decoder/model.onnx output'));
  out.dispose?.();
  return image;
}

/**
 * The encoder's latent for an image [3, H, W] in [-1, 1], times the scaling factor: [4, H/8, W/8].
 * An encoder that returns the 8 moments of the latent distribution (mean, log-variance) gives
 * its mean (deterministic; diffusers samples, which differs by SD's tiny VAE variance); a
 * 4-channel output is used as it is (diffusers' own export samples inside the graph).
 */
export async function vaeEncode(model: LatentModel, image: Float32Array, height: number, width: number): Promise<Float32Array> {
  const encoder = await model.encoder();
  const inputName = encoder.inputs.has('sample') ? 'sample' : [...encoder.inputs.keys()][0];
  const spec = encoder.inputs.get(inputName)!;
  if (!isFloatType(spec.type)) throw new ModelInputError(`vae_encoder/model.onnx: input "${inputName}" is ${spec.type}, expected float32 or float16`);
  const outputName = ['latent_sample', 'latent_parameters', 'latent_dist'].find((n) => encoder.outputNames.includes(n)) ?? encoder.outputNames[0];
  const result = await encoder.run({ [inputName]: floatTensor(spec.type, image, [1, 3, height, width]) }, [outputName]);
  const out = result[outputName];
  const [h, w] = [height / VAE_FACTOR, width / VAE_FACTOR];
  if (out.dims.length !== 4 || out.dims[0] !== 1 || (out.dims[1] !== 4 && out.dims[1] !== 8) || out.dims[2] !== h || out.dims[3] !== w) {
    throw new ModelInputError(`vae_encoder/model.onnx output "${outputName}" has shape [${out.dims.join(', ')}], expected [1, 4 (or 8 moments), ${h}, ${w}]`);
  }
  const data = tensorToFloat32(out, 'vae_encoder/model.onnx output');
  const latent = new Float32Array(4 * h * w);
  for (let i = 0; i < latent.length; i++) latent[i] = data[i] * model.scalingFactor; // the first 4 channels: the mean
  out.dispose?.();
  if (!latent.every(Number.isFinite)) throw new NumericalError('the VAE encoder produced NaN or infinite values — usually an fp16 VAE overflow; use an fp32 VAE or the CPU provider');
  return latent;
}

// ---------------------------------------------------------------------------------------
// Previews.

/**
 * A cheap RGB preview of SD latents: the published linear approximation of the SD 1.x VAE
 * (latent channel -> RGB weights; SD 2.x latents look alike), upsampled 8x by repetition.
 * Decoding every step with the VAE would cost about as much as the UNet call itself.
 */
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

export function latentPreview(latent: Float32Array, h: number, w: number): Float32Array {
  const W = w * VAE_FACTOR;
  const H = h * VAE_FACTOR;
  const hw = h * w;
  const out = new Float32Array(3 * H * W);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const cell = Math.floor(y / VAE_FACTOR) * w + Math.floor(x / VAE_FACTOR);
      for (let c = 0; c < 3; c++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += LATENT_RGB[k][c] * latent[k * hw + cell];
        out[c * H * W + y * W + x] = v;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Generation.

/** The same inputs as the pixel pipeline; `onStep`'s x0 is an RGB preview [3, H, W] (see latentPreview). */
export type LatentInputs = PixelInputs;

/** The pixel pipeline's result with `x` the final latent (before decoding), [1, 4, H/8, W/8]. */
export interface LatentResult extends PixelResult {
  /** The VAE's output [3, H, W] before the inpainting paste-back. */
  decoded: Float32Array;
  /** Token ids of the prompt and the negative prompt. */
  condIds?: number[];
  uncondIds?: number[];
  /** Inpainting / img2img: the init image's latent (scaled). */
  initLatent?: Float32Array;
  /** Inpainting: the masks used. */
  masks?: InpaintMasks;
}

const LATENT_TASKS = ['txt2img', 'img2img', 'inpaint'];

/** Image size for a latent model: multiples of 8, and the UNet's fixed size if it has one. */
export function latentSize(model: LatentModel, settings: Pick<GenerationSettings, 'width' | 'height'>): { width: number; height: number; h: number; w: number } {
  const { width, height } = settings;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < VAE_FACTOR || height < VAE_FACTOR || width % VAE_FACTOR || height % VAE_FACTOR) {
    throw new SettingsError(`width and height must be multiples of 8 for a latent model, got ${width}x${height}`);
  }
  const { latentHeight, latentWidth } = model.signature;
  if ((latentWidth !== null && latentWidth * 8 !== width) || (latentHeight !== null && latentHeight * 8 !== height)) {
    throw new SettingsError(`this model only makes ${(latentWidth ?? width / 8) * 8}x${(latentHeight ?? height / 8) * 8} images; ${width}x${height} is not possible`);
  }
  return { width, height, h: height / VAE_FACTOR, w: width / VAE_FACTOR };
}

function checkFinite(values: Float32Array, message: string): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new NumericalError(message);
}

export async function generateLatent(model: LatentModel, settings: GenerationSettings, inputs: LatentInputs = {}): Promise<LatentResult> {
  const { folder } = model;
  if (!LATENT_TASKS.includes(settings.task)) throw new SettingsError(`${settings.task} needs a pixel-space model; ${folder.name} is a latent (VAE) model: use txt2img, img2img or inpaint`);
  if (settings.classLabel !== null && settings.classifierScale > 0) throw new SettingsError(`${folder.name} has no classifier: classifier guidance is for pixel-space models with classifier/model.onnx`);
  checkStepCount(settings);
  if (settings.clipX0 === true) throw new SettingsError('--clip-x0 applies to pixel-space models only; latent models never clip x0');
  const { width: W, height: H, h, w } = latentSize(model, settings);
  const D = 4 * h * w;
  const inpainting = settings.task === 'inpaint';
  if (model.signature.channels === 9 && !inpainting) throw new SettingsError(`${folder.name} is an inpainting model (9-channel UNet): use --task inpaint with --init-image and --mask`);
  if (settings.task === 'txt2img' && settings.strength !== 1) throw new SettingsError(`--strength applies to img2img and inpaint (task ${settings.task})`);

  const warnings: string[] = [];
  let text: PromptPair | undefined;
  if (model.text) text = await encodePromptPair(model.text.tokenizer, model.text.encoder, settings.prompt, settings.negativePrompt, warnings);
  else if (settings.prompt || settings.negativePrompt) throw new SettingsError(`${folder.name} has no text encoder, so a prompt cannot be used`);
  const guidance: Guidance = { cfg: settings.guidance };

  let noise: Float32Array;
  if (inputs.initNoise) {
    if (inputs.initNoise.length !== D) throw new SettingsError(`--init-noise has ${inputs.initNoise.length} values, expected ${D} (1x4x${h}x${w})`);
    noise = Float32Array.from(inputs.initNoise);
  } else {
    noise = torchRandn(settings.seed, [1, 4, h, w]);
  }
  const x = Float32Array.from(noise);
  const spacing = Array.isArray(settings.spacing) ? { explicit: settings.spacing } : settings.spacing;
  const fullPlan = planFor(folder.scheduler, settings.steps, spacing);

  // img2img and inpainting: the init image's latent; strength < 1 starts from it noised to the first remaining step.
  let skipSteps = 0;
  let initLatent: Float32Array | undefined;
  let masks: InpaintMasks | undefined;
  let initPixels: Float32Array | undefined;
  let inpaint: InpaintConditioning | undefined;
  if (settings.task === 'img2img' || inpainting) {
    const init = requireSized(inputs.initImage, '--init-image', inpainting ? 'the picture to inpaint' : 'the starting picture', W, H);
    initPixels = imageToTensor(init);
    skipSteps = stepsToSkip(settings.steps, settings.strength);
    if (inpainting) masks = inpaintMasks(requireSized(inputs.mask, '--mask', 'white = repaint, black = keep', W, H), VAE_FACTOR);
    initLatent = await vaeEncode(model, initPixels, H, W);
    if (!inpainting || settings.strength < 1) {
      const start = fullPlan.steps[skipSteps].point;
      const a = Math.sqrt(start.abar);
      const s = Math.sqrt(1 - start.abar);
      for (let i = 0; i < D; i++) x[i] = a * initLatent[i] + s * noise[i];
    }
    if (inpainting && model.signature.channels === 9) {
      const hw = H * W;
      const masked = new Float32Array(initPixels.length);
      for (let c = 0; c < 3; c++) for (let p = 0; p < hw; p++) masked[c * hw + p] = masks!.binary[p] >= 0.5 ? 0 : initPixels[c * hw + p];
      inpaint = { mask: masks!.stateBinary, maskedLatent: await vaeEncode(model, masked, H, W) };
    }
  }

  // 4-channel inpainting: after every step the known region's latent, noised to the level the
  // state is now at, is blended in with the feathered latent mask (knownRegion.ts).
  const plan: SamplingPlan = skipSteps ? skipPlan(fullPlan, skipSteps) : fullPlan;
  const region: KnownRegion | undefined = inpainting && model.signature.channels === 4 ? { known: initLatent!, repaint: masks!.state, noise } : undefined;
  const onStep = async (p: StepProgress) => {
    if (region) blendKnownRegion(region, plan, x, p.step - 1);
    if (inputs.onStep) await inputs.onStep({ ...p, x0: latentPreview(p.x0, h, w) });
  };

  const result = await sample({
    predictor: new LatentNoisePredictor(model.unet, model.signature, h, w, text, inpaint),
    scheduler: folder.scheduler,
    shape: { channels: 4, height: h, width: w },
    rows: 1,
    solver: settings.solver,
    steps: settings.steps,
    spacing,
    guidance,
    conditionAt: settings.conditionAt,
    clipX0: false,
    initial: x,
    skipSteps,
    signal: inputs.signal,
    onStep,
  });
  checkFinite(result.x, UNET_NAN_MESSAGE);

  const decoded = await vaeDecode(model, result.x, h, w);
  checkFinite(decoded, VAE_NAN_MESSAGE);
  if (decoded.every((v) => v <= -1)) throw new NumericalError(VAE_BLACK_MESSAGE);

  // Inpainting: paste the known pixels back with the feathered mask (the VAE round trip alters
  // them slightly, and a 9-channel UNet does not keep them by itself).
  const finalPixels = masks && initPixels ? pasteBack(decoded, initPixels, masks.pixel) : decoded;
  return {
    x: result.x,
    shape: [1, 4, h, w],
    image: tensorToImage(finalPixels, 3, W, H),
    cost: result.cost,
    samplingMs: result.wallMs,
    timesteps: [...result.plan.timesteps],
    warnings,
    decoded,
    condIds: text?.condIds,
    uncondIds: text?.uncondIds,
    initLatent,
    masks,
  };
}
