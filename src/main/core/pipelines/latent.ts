/**
 * The latent (Stable Diffusion 1.x / 2.x) pipeline for diffusers' ONNX folders: CLIP tokenizer
 * -> text encoder -> engine run on latents (every solver, CFG as one batch-2 UNet call
 * [uncond, cond]) -> VAE decoder -> image. Tasks: txt2img, img2img (diffusers' strength),
 * inpainting with a 4-channel UNet (the known region's latent blended back after every step,
 * knownRegion.ts) or with a 9-channel inpainting UNet ([latent, mask, masked-image latent]).
 *
 * Fixed-dimension providers (DirectML, CoreML) get one session per resolution
 * (onnxComponent.ts); CPU and CUDA use one session with free dimensions.
 */
import { tasksOfKind } from '../../../shared/modelSettings';
import type { Settings } from '../../../shared/settings';
import { SettingsError } from '../engine/errors';
import type { ModelFolder } from '../models/modelFolder';
import { type OpenedSession, type ProviderName, type SessionExtras, type SkippedProvider, defaultThreads, firstLine, inputSpecs, openSession } from '../runtime/sessions';
import { checkStepCount } from './common';
import { ModelInputError, NumericalError, UNET_NAN_MESSAGE, VAE_BLACK_MESSAGE, VAE_NAN_MESSAGE } from './errors';
import { imageToTensor } from './images';
import { FIXED_DIMENSION_PROVIDERS, OnnxComponent } from './onnxComponent';
import type { Pipeline, PipelineInputs, PipelineResult } from './pipeline';
import { type StartingPicture, type StateSpace, runPipeline } from './run';
import { OnnxTextEncoder, type TextNetworks, encodeRunPrompts } from './textEncoder';
import { folderTokenizer } from './tokenizers/load';
import { OnnxNoisePredictor, type UnetSignature, declaredUnetChannels, readUnetSignature } from './unet';
import { VAE_FACTOR, type Vae, latentPreview, readScalingFactor, vaeDecode, vaeEncode } from './vae';

export interface LatentPipeline extends Pipeline {
  readonly kind: 'latent';
  readonly unet: OnnxComponent;
  /** The UNet's signature: 4 channels (9 for an inpainting UNet), sizes in latent cells. */
  readonly signature: UnetSignature;
  readonly text?: TextNetworks;
  readonly vae: Vae;
  /** Whether the networks run with fixed input sizes (one session per resolution). */
  readonly fixedDimensions: boolean;
}

export interface LatentOpenOptions {
  /** 'auto': fixed sizes for the providers in FIXED_DIMENSION_PROVIDERS only. */
  fixedDimensions?: 'auto' | 'always' | 'never';
  threads?: number;
}

export async function openLatentPipeline(folder: ModelFolder, providers: readonly ProviderName[], options: LatentOpenOptions = {}): Promise<LatentPipeline> {
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
  const signature = readUnetSignature(inputSpecs(unetOpened.session), unetOpened.session.outputNames, 'unet/model.onnx', declaredUnetChannels(folder));
  if (signature.channels !== 4 && signature.channels !== 9) {
    throw new ModelInputError(`unet/model.onnx: a latent UNet's "sample" needs 4 channels (or 9 for inpainting), this one has ${signature.channels}`);
  }
  const unet = new OnnxComponent('unet/model.onnx', folder.unetPath, unetOpened, fixedDimensions, threads);

  let text: TextNetworks | undefined;
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
  const vae: Vae = {
    decoder,
    encoder: () =>
      (encoder ??= (async () => {
        if (!folder.vaeEncoderPath) throw new SettingsError(`${folder.name} has no vae_encoder/model.onnx, so img2img and inpainting are not possible`, { field: 'task', kind: 'unsupported' });
        return new OnnxComponent('vae_encoder/model.onnx', folder.vaeEncoderPath, await openOther('vae_encoder/model.onnx', folder.vaeEncoderPath), fixedDimensions, threads);
      })().catch((error) => {
        encoder = undefined;
        throw error;
      })),
    scalingFactor: scaling.value,
    scalingFactorSource: scaling.source,
  };
  const pipeline: LatentPipeline = {
    kind: 'latent',
    folder,
    image: {
      channels: 3,
      width: signature.width === null ? null : signature.width * VAE_FACTOR,
      height: signature.height === null ? null : signature.height * VAE_FACTOR,
    },
    provider,
    skippedProviders: skipped,
    loadMs: performance.now() - started,
    unet,
    signature,
    text,
    vae,
    fixedDimensions,
    generate: (settings, inputs = {}) => generateLatent(pipeline, settings, inputs),
  };
  return pipeline;
}

/** The run's latent size: pictures in multiples of 8, and the UNet's fixed size if it has one. */
function latentShape(pipeline: LatentPipeline, settings: Pick<Settings, 'width' | 'height'>): { h: number; w: number } {
  const { width, height } = settings;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < VAE_FACTOR || height < VAE_FACTOR || width % VAE_FACTOR || height % VAE_FACTOR) {
    throw new SettingsError(`width and height must be multiples of 8 for a latent model, got ${width}x${height}`, { field: 'width', kind: 'format' });
  }
  const fixed = pipeline.image;
  if ((fixed.width !== null && fixed.width !== width) || (fixed.height !== null && fixed.height !== height)) {
    throw new SettingsError(`this model only makes ${fixed.width ?? width}x${fixed.height ?? height} images; ${width}x${height} is not possible`, { field: 'width', kind: 'unsupported' });
  }
  return { h: height / VAE_FACTOR, w: width / VAE_FACTOR };
}

function requireFinite(values: Float32Array, message: string): void {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new NumericalError(message);
}

/** The latent space: pictures through the VAE, previews by its linear approximation. */
function latentSpace(vae: Vae, h: number, w: number): StateSpace {
  return {
    shape: { channels: 4, height: h, width: w },
    factor: VAE_FACTOR,
    imageChannels: 3,
    pictureTensor: imageToTensor,
    encode: (picture) => vaeEncode(vae, picture, h * VAE_FACTOR, w * VAE_FACTOR),
    decode: async (latent) => {
      requireFinite(latent, UNET_NAN_MESSAGE);
      const decoded = await vaeDecode(vae, latent, h, w);
      requireFinite(decoded, VAE_NAN_MESSAGE);
      if (decoded.every((v) => v <= -1)) throw new NumericalError(VAE_BLACK_MESSAGE);
      return decoded;
    },
    preview: (x0) => latentPreview(x0, h, w),
  };
}

/** A 9-channel inpainting UNet's extra channels, diffusers' order: the mask at latent size, then the masked picture's latent. */
async function inpaintingChannels(vae: Vae, start: StartingPicture, h: number, w: number): Promise<Float32Array> {
  const { picture, masks } = start;
  const hw = h * w * VAE_FACTOR * VAE_FACTOR;
  const masked = picture.map((v, k) => (masks.binary[k % hw] >= 0.5 ? 0 : v));
  const maskedLatent = await vaeEncode(vae, masked, h * VAE_FACTOR, w * VAE_FACTOR);
  const channels = new Float32Array(5 * h * w);
  channels.set(masks.stateBinary);
  channels.set(maskedLatent, h * w);
  return channels;
}

async function generateLatent(pipeline: LatentPipeline, settings: Settings, inputs: PipelineInputs): Promise<PipelineResult> {
  const { folder, signature, vae } = pipeline;
  if (!tasksOfKind('latent').includes(settings.task)) throw new SettingsError(`${settings.task} needs a pixel-space model; ${folder.name} is a latent (VAE) model: use txt2img, img2img or inpaint`, { field: 'task', kind: 'unsupported' });
  if (settings.classLabel !== null && settings.classifierScale > 0) throw new SettingsError(`${folder.name} has no classifier: classifier guidance is for pixel-space models with classifier/model.onnx`, { field: 'classLabel', kind: 'unsupported' });
  checkStepCount(settings);
  if (settings.clipX0 === true) throw new SettingsError('clipping x0 applies to pixel-space models only; latent models never clip x0', { field: 'clipX0', kind: 'unsupported' });
  const { h, w } = latentShape(pipeline, settings);
  const inpaintingUnet = signature.channels === 9;
  if (inpaintingUnet && settings.task !== 'inpaint') throw new SettingsError(`${folder.name} is an inpainting model (9-channel UNet): use the inpaint task with a picture and a mask`, { field: 'task', kind: 'unsupported' });
  const warnings: string[] = [];
  const text = await encodeRunPrompts(pipeline.text, folder.name, settings, warnings);
  const shape = { channels: 4, height: h, width: w };
  return runPipeline(settings, inputs, {
    space: latentSpace(vae, h, w),
    scheduler: folder.scheduler,
    guidance: { cfg: settings.guidance },
    clipX0: false,
    blendKnownRegion: !inpaintingUnet,
    predictor: async (start) => new OnnxNoisePredictor(pipeline.unet, signature, shape, text, inpaintingUnet && start ? await inpaintingChannels(vae, start, h, w) : undefined),
    prompt: text,
    warnings,
  });
}
