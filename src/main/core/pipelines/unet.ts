/**
 * The denoiser (unet/model.onnx) of every model folder, pixel or latent, as the engine's
 * NoisePredictor. Model facts are read from the ONNX metadata, never assumed: float16 or
 * float32 sample and text inputs (converted at the boundary), the timestep's type and rank,
 * the channel count, fixed or free sizes, and an output with learned variance (2C channels:
 * the first C are the prediction).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ImageShape } from '../engine/guidance/consistency';
import type { Branch, NoisePredictor } from '../engine/model';
import { MAX_CONFIG_BYTES, readJsonBounded } from '../io/json';
import type { ModelFolder } from '../models/modelFolder';
import type { InputSpec } from '../runtime/sessions';
import { ModelInputError } from './errors';
import type { OnnxComponent } from './onnxComponent';
import type { PromptEmbeddings } from './textEncoder';
import { type FloatType, TIMESTEP_TYPES, floatTensor, isFloatType, tensorToFloat32, timestepFeed } from './onnxTensors';

const KNOWN_INPUTS = ['sample', 'timestep', 'encoder_hidden_states'];

export interface UnetSignature {
  sample: InputSpec;
  timestep: InputSpec;
  hiddenStates?: InputSpec;
  /** Channels of "sample": the state's, plus conditioning channels (9 = a latent inpainting UNet). */
  channels: number;
  floatType: FloatType;
  hiddenType: FloatType;
  /** Fixed size of "sample" (pixels, or latent cells), or null where the dimension is free. */
  height: number | null;
  width: number | null;
  outputName: string;
}

const fixedDim = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

/**
 * The UNet's inputs and output as this build drives them. `declaredChannels` is the channel
 * count the folder states (declaredUnetChannels) for a model that leaves it free.
 */
export function readUnetSignature(inputs: Map<string, InputSpec>, outputNames: readonly string[], file = 'unet/model.onnx', declaredChannels?: number): UnetSignature {
  const listed = [...inputs.keys()].join(', ');
  const sample = inputs.get('sample');
  const timestep = inputs.get('timestep');
  if (!sample) throw new ModelInputError(`${file}: no input named "sample" (inputs: ${listed})`);
  if (!timestep) throw new ModelInputError(`${file}: no input named "timestep" (inputs: ${listed})`);
  if (inputs.has('text_embeds') || inputs.has('time_ids')) throw new ModelInputError(`${file}: takes text_embeds/time_ids (Stable Diffusion XL), which this build does not run`);
  for (const name of inputs.keys()) {
    if (!KNOWN_INPUTS.includes(name)) throw new ModelInputError(`${file}: unexpected input "${name}" (known: ${KNOWN_INPUTS.join(', ')})`);
  }
  if (sample.shape.length !== 4) throw new ModelInputError(`${file}: input "sample" has rank ${sample.shape.length}, expected 4 ([batch, channels, height, width])`);
  if (!isFloatType(sample.type)) throw new ModelInputError(`${file}: input "sample" is ${sample.type}, expected float32 or float16`);
  const channels = fixedDim(sample.shape[1]) ?? declaredChannels;
  if (channels === undefined) throw new ModelInputError(`${file}: input "sample" must have a fixed channel count`);
  const hidden = inputs.get('encoder_hidden_states');
  if (hidden && (hidden.shape.length !== 3 || !isFloatType(hidden.type))) {
    throw new ModelInputError(`${file}: "encoder_hidden_states" must be float32 or float16 of rank 3, is ${hidden.type} of rank ${hidden.shape.length}`);
  }
  if (!TIMESTEP_TYPES.includes(timestep.type)) {
    throw new ModelInputError(`${file}: input "timestep" has type ${timestep.type}; supported: ${TIMESTEP_TYPES.join(', ')}`);
  }
  return {
    sample,
    timestep,
    hiddenStates: hidden,
    channels,
    floatType: sample.type,
    hiddenType: hidden && isFloatType(hidden.type) ? hidden.type : 'float32',
    height: fixedDim(sample.shape[2]),
    width: fixedDim(sample.shape[3]),
    outputName: outputNames.includes('out_sample') ? 'out_sample' : outputNames[0],
  };
}

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

/** What the UNet needs of the prompt embeddings. */
type TextConditioning = Pick<PromptEmbeddings, 'cond' | 'uncond' | 'tokens' | 'dim'>;

/**
 * The UNet as a NoisePredictor: all branches' rows in one call ([uncond rows, cond rows] for
 * CFG). `conditioning` holds channels appended to every row after the state's (a latent
 * inpainting UNet's mask and masked-image latent, diffusers' order); `signature.channels`
 * must equal the state's channels plus these.
 */
export class OnnxNoisePredictor implements NoisePredictor {
  readonly sampleSize: number;
  readonly supportsUnconditional: boolean;
  private readonly buffers = new Map<number, { sample: Float32Array; hidden?: Float32Array }>();

  constructor(
    private readonly unet: OnnxComponent,
    private readonly signature: UnetSignature,
    private readonly shape: ImageShape,
    private readonly text?: TextConditioning,
    private readonly conditioning?: Float32Array,
  ) {
    const hw = shape.height * shape.width;
    this.sampleSize = shape.channels * hw;
    this.supportsUnconditional = text !== undefined;
    if (signature.hiddenStates && !text) throw new ModelInputError('unet/model.onnx needs encoder_hidden_states: the model folder must have a text encoder');
    const extra = conditioning ? conditioning.length / hw : 0;
    if (signature.channels !== shape.channels + extra) {
      throw new ModelInputError(`unet/model.onnx takes ${signature.channels} channels; this run gives ${shape.channels} + ${extra} conditioning`);
    }
  }

  private buffersFor(batch: number) {
    let b = this.buffers.get(batch);
    if (!b) {
      b = { sample: new Float32Array(batch * this.signature.channels * this.shape.height * this.shape.width) };
      if (this.text && this.signature.hiddenStates) b.hidden = new Float32Array(batch * this.text.tokens * this.text.dim);
      this.buffers.set(batch, b);
    }
    return b;
  }

  async predict(x: Float32Array, rows: number, timestep: number, branches: readonly Branch[], out: Float32Array): Promise<void> {
    const { shape, signature, text, conditioning } = this;
    const { channels: C, height: h, width: w } = shape;
    const D = this.sampleSize;
    const per = signature.channels * h * w;
    const batch = rows * branches.length;
    const buffers = this.buffersFor(batch);
    for (let b = 0; b < branches.length; b++) {
      for (let r = 0; r < rows; r++) {
        const at = (b * rows + r) * per;
        buffers.sample.set(x.subarray(r * D, (r + 1) * D), at);
        if (conditioning) buffers.sample.set(conditioning, at + D);
      }
    }
    const feeds: Record<string, ort.Tensor> = {
      sample: floatTensor(signature.floatType, buffers.sample, [batch, signature.channels, h, w]),
      timestep: timestepFeed(signature.timestep, timestep, batch),
    };
    if (buffers.hidden && text) {
      const tokens = text.tokens * text.dim;
      branches.forEach((branch, b) => {
        for (let r = 0; r < rows; r++) buffers.hidden!.set(branch === 'cond' ? text.cond : text.uncond, (b * rows + r) * tokens);
      });
      feeds.encoder_hidden_states = floatTensor(signature.hiddenType, buffers.hidden, [batch, text.tokens, text.dim]);
    }
    const result = await this.unet.run(feeds, [signature.outputName]);
    const output = result[signature.outputName];
    const outChannels = output.dims[1];
    if (output.dims.length !== 4 || output.dims[0] !== batch || (outChannels !== C && outChannels !== 2 * C) || output.dims[2] !== h || output.dims[3] !== w) {
      throw new ModelInputError(`unet/model.onnx output has shape [${output.dims.join(', ')}], expected [${batch}, ${C} (or ${2 * C}), ${h}, ${w}]`);
    }
    const data = tensorToFloat32(output, 'unet/model.onnx output');
    if (outChannels === C) out.set(data.subarray(0, batch * D));
    else for (let b = 0; b < batch; b++) out.set(data.subarray(b * 2 * D, b * 2 * D + D), b * D); // learned variance: the first C channels
    output.dispose?.();
  }
}
