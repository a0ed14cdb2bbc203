/**
 * The pixel-space pipeline: the sampler's state is the picture itself (1 or 3 channels in
 * [-1, 1]). Tasks: txt2img, img2img, inpaint, and the restorations colorize and
 * super-resolution, whose measurement is kept ILVR-style after every step (knownRegion.ts);
 * guidance terms (CFG, classifier, consistency) combine freely.
 */
import type { PromptPair, Settings } from '../../../shared/settings';
import { usesConsistency } from '../../../shared/runShape';
import { type ImageShape, LUMA_WEIGHTS } from '../engine/guidance/consistency';
import type { Guidance } from '../engine/guidance/denoiser';
import { SettingsError } from '../engine/errors';
import type { ModelFolder } from '../models/modelFolder';
import { type OpenedSession, type ProviderName, defaultThreads, inputSpecs, openSession } from '../runtime/sessions';
import { OnnxClassifier } from './classifier';
import { checkStepCount, requireSized } from './common';
import { ModelInputError } from './errors';
import { type RgbaImage, imageToTensor } from './images';
import type { MeasurementOperator } from './knownRegion';
import { OnnxComponent } from './onnxComponent';
import type { Pipeline, PipelineInputs, PipelineResult } from './pipeline';
import { type StateSpace, runPipeline } from './run';
import { OnnxTextEncoder, type PromptEmbeddings, type TextNetworks, encodeRunPrompts } from './textEncoder';
import { folderTokenizer } from './tokenizers/load';
import { OnnxNoisePredictor, type UnetSignature, readUnetSignature } from './unet';

export interface PixelPipeline extends Pipeline {
  readonly kind: 'pixel';
  /** The networks, for tools that drive the engine themselves (evaluation, benchmarks). */
  readonly unet: OnnxComponent;
  readonly signature: UnetSignature;
  readonly text?: TextNetworks;
  /** The classifier's session, opened on first use (most runs never need it). */
  classifierSession(): Promise<OpenedSession | undefined>;
  encodePrompts(prompts: PromptPair, warnings: string[]): Promise<PromptEmbeddings | undefined>;
}

export async function openPixelPipeline(folder: ModelFolder, providers: readonly ProviderName[]): Promise<PixelPipeline> {
  const started = performance.now();
  const threads = defaultThreads();
  const opened = await openSession(folder.unetPath, providers, threads);
  const signature = readUnetSignature(inputSpecs(opened.session), opened.session.outputNames, 'unet/model.onnx');
  if (signature.channels !== 3 && signature.channels !== 1) {
    throw new ModelInputError(`unet/model.onnx: a pixel model's "sample" needs 1 or 3 channels, this one has ${signature.channels}`);
  }
  let text: TextNetworks | undefined;
  if (folder.textEncoderPath) {
    const tokenizer = folderTokenizer(folder);
    text = { tokenizer, encoder: new OnnxTextEncoder(await openSession(folder.textEncoderPath, [opened.provider], threads)) };
  } else if (signature.hiddenStates) {
    throw new ModelInputError(`${folder.dir}: unet/model.onnx takes encoder_hidden_states but the folder has no text_encoder/`);
  }
  let classifier: Promise<OpenedSession | undefined> | undefined;
  const pipeline: PixelPipeline = {
    kind: 'pixel',
    folder,
    image: { channels: signature.channels, width: signature.width, height: signature.height },
    provider: opened.provider,
    skippedProviders: opened.skipped,
    loadMs: performance.now() - started,
    unet: new OnnxComponent('unet/model.onnx', folder.unetPath, opened, false, threads),
    signature,
    text,
    classifierSession: () => (classifier ??= folder.classifierPath ? openSession(folder.classifierPath, [opened.provider], threads) : Promise.resolve(undefined)),
    encodePrompts: (prompts, warnings) => encodeRunPrompts(text, folder.name, prompts, warnings),
    generate: (settings, inputs = {}) => generatePixel(pipeline, settings, inputs),
  };
  return pipeline;
}

/** The run's picture size: the model's where it fixes one. */
function resolveShape(pipeline: PixelPipeline, settings: Pick<Settings, 'width' | 'height'>): ImageShape {
  const { image } = pipeline;
  for (const side of ['width', 'height'] as const) {
    if (image[side] !== null && settings[side] !== image[side]) {
      throw new SettingsError(`this model only makes ${image.width}x${image.height} images; ${side} ${settings[side]} is not possible`, { field: side, kind: 'unsupported' });
    }
  }
  return { channels: image.channels, width: settings.width, height: settings.height };
}

function lumaOf(rgb: Float32Array, hw: number): Float32Array {
  const gray = new Float32Array(hw);
  for (let p = 0; p < hw; p++) gray[p] = LUMA_WEIGHTS[0] * rgb[p] + LUMA_WEIGHTS[1] * rgb[hw + p] + LUMA_WEIGHTS[2] * rgb[2 * hw + p];
  return gray;
}

/** A picture as a C-channel tensor in [-1, 1]: RGB, or its luma for a 1-channel model. */
function pictureTensor(image: RgbaImage, channels: number): Float32Array {
  const rgb = imageToTensor(image);
  return channels === 3 ? rgb : lumaOf(rgb, image.width * image.height);
}

/** The pixel space: the state is the picture. */
function pixelSpace(shape: ImageShape): StateSpace {
  return {
    shape,
    factor: 1,
    imageChannels: shape.channels,
    pictureTensor: (picture) => pictureTensor(picture, shape.channels),
    encode: async (picture) => picture,
    decode: async (state) => state,
    preview: (x0) => x0,
  };
}

/** The measurement operator of colorize and super-resolution (A and y in docs/samplers.md §3.3), checked against the inputs. */
function measurementOperator(settings: Settings, shape: ImageShape, inputs: PipelineInputs): MeasurementOperator {
  const { width, height } = shape;
  if (settings.task === 'colorize') {
    const rgb = imageToTensor(requireSized(inputs.initImage, 'initImage', 'the gray picture', width, height));
    return { kind: 'colorize', gray: lumaOf(rgb, width * height) };
  }
  const low = inputs.initImage;
  if (!low) throw new SettingsError('super-resolution needs a starting picture (the low-resolution one)', { field: 'initImage', kind: 'missing' });
  const factor = width / low.width;
  if (!Number.isInteger(factor) || factor < 2 || height / low.height !== factor) {
    throw new SettingsError(`the starting picture is ${low.width}x${low.height}; super-resolution needs ${width}x${height} divided by a whole factor >= 2`, { field: 'initImage', kind: 'format' });
  }
  return { kind: 'super-resolution', low: pictureTensor(low, shape.channels), factor };
}

async function generatePixel(pipeline: PixelPipeline, settings: Settings, inputs: PipelineInputs): Promise<PipelineResult> {
  const { folder } = pipeline;
  checkStepCount(settings);
  const shape = resolveShape(pipeline, settings);
  const wantsClassifier = settings.classLabel !== null && settings.classifierScale > 0;
  const classifierSession = wantsClassifier ? await pipeline.classifierSession() : undefined;
  if (wantsClassifier && !classifierSession) throw new SettingsError(`${folder.name} has no classifier: a class and a classifier scale need classifier/model.onnx`, { field: 'classLabel', kind: 'unsupported' });
  const measurement = usesConsistency(settings.task) ? measurementOperator(settings, shape, inputs) : undefined;
  // Every guidance term the settings ask for; the engine adds them up.
  const guidance: Guidance = { cfg: settings.guidance };
  if (wantsClassifier) guidance.classifier = { scale: settings.classifierScale, labels: [settings.classLabel!] };
  if (measurement) guidance.consistency = { scale: settings.consistencyScale, operator: measurement };
  const warnings: string[] = [];
  const text = await pipeline.encodePrompts(settings, warnings);
  return runPipeline(settings, inputs, {
    space: pixelSpace(shape),
    scheduler: folder.scheduler,
    guidance,
    classifier: classifierSession && new OnnxClassifier(classifierSession, folder.classLabels!.length, shape, 'classifier/model.onnx'),
    clipX0: settings.clipX0 ?? undefined,
    measurement,
    blendKnownRegion: true,
    predictor: async () => new OnnxNoisePredictor(pipeline.unet, pipeline.signature, shape, text),
    prompt: text,
    warnings,
  });
}
