/**
 * ONNX networks of pixel-space model folders: the denoiser (unet/model.onnx) as a
 * NoisePredictor and the noisy classifier (classifier/model.onnx, with its `grad` output)
 * as a ClassifierGradient. Input names, types and ranks are read from the models' metadata
 * and checked once, when the sessions open; input buffers are kept per batch size.
 */
import * as ort from 'onnxruntime-node';
import type { Branch, ClassifierGradient, NoisePredictor } from '../engine/model';
import type { ImageShape } from '../engine/guidance/consistency';
import { type InputSpec, type OpenedSession, inputSpecs, timestepTensor } from '../runtime/sessions';

export class ModelInputError extends Error {}

const KNOWN_UNET_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', 'class_labels']);

export interface UnetSignature {
  sample: InputSpec;
  timestep: InputSpec;
  hiddenStates?: InputSpec;
  /** Channels of `sample` (9 marks an inpainting UNet). */
  channels: number;
  /** Fixed spatial size, or null where the dimension is free. */
  height: number | null;
  width: number | null;
  outputName: string;
}

const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

export function readUnetSignature(session: ort.InferenceSession, file: string): UnetSignature {
  const specs = inputSpecs(session);
  const sample = specs.get('sample');
  const timestep = specs.get('timestep');
  if (!sample) throw new ModelInputError(`${file}: no input named "sample" (inputs: ${[...specs.keys()].join(', ')})`);
  if (!timestep) throw new ModelInputError(`${file}: no input named "timestep" (inputs: ${[...specs.keys()].join(', ')})`);
  for (const name of specs.keys()) {
    if (!KNOWN_UNET_INPUTS.has(name)) throw new ModelInputError(`${file}: unexpected input "${name}" (known: ${[...KNOWN_UNET_INPUTS].join(', ')})`);
  }
  if (sample.shape.length !== 4) throw new ModelInputError(`${file}: input "sample" has rank ${sample.shape.length}, expected 4 ([batch, channels, height, width])`);
  if (sample.type !== 'float32') throw new ModelInputError(`${file}: input "sample" is ${sample.type}; this build runs float32 models`);
  const channels = fixed(sample.shape[1]);
  if (channels === null) throw new ModelInputError(`${file}: input "sample" must have a fixed channel count`);
  const outputName = session.outputNames.includes('out_sample') ? 'out_sample' : session.outputNames[0];
  return {
    sample,
    timestep,
    hiddenStates: specs.get('encoder_hidden_states'),
    channels,
    height: fixed(sample.shape[2]),
    width: fixed(sample.shape[3]),
    outputName,
  };
}

/** Prompt embeddings for the conditional and unconditional branches ([tokens, dim] each). */
export interface TextConditioning {
  cond: Float32Array;
  uncond: Float32Array;
  tokens: number;
  dim: number;
}

export class OnnxNoisePredictor implements NoisePredictor {
  readonly sampleSize: number;
  readonly supportsUnconditional: boolean;
  private readonly buffers = new Map<number, { sample: Float32Array; hidden?: Float32Array }>();

  constructor(
    private readonly opened: OpenedSession,
    private readonly signature: UnetSignature,
    private readonly shape: ImageShape,
    private readonly text?: TextConditioning,
  ) {
    this.sampleSize = shape.channels * shape.height * shape.width;
    this.supportsUnconditional = text !== undefined;
    if (signature.hiddenStates && !text) throw new ModelInputError('this UNet needs encoder_hidden_states: the model folder must have a text encoder');
  }

  private buffersFor(batch: number) {
    let b = this.buffers.get(batch);
    if (!b) {
      b = { sample: new Float32Array(batch * this.sampleSize) };
      if (this.text) b.hidden = new Float32Array(batch * this.text.tokens * this.text.dim);
      this.buffers.set(batch, b);
    }
    return b;
  }

  async predict(x: Float32Array, rows: number, timestep: number, branches: readonly Branch[], out: Float32Array): Promise<void> {
    const D = this.sampleSize;
    const batch = rows * branches.length;
    const buffers = this.buffersFor(batch);
    const { channels: C, height: H, width: W } = this.shape;
    for (let b = 0; b < branches.length; b++) buffers.sample.set(x.subarray(0, rows * D), b * rows * D);
    const feeds: Record<string, ort.Tensor> = {
      sample: new ort.Tensor('float32', buffers.sample, [batch, C, H, W]),
      timestep: timestepTensor(this.signature.timestep, timestep, batch),
    };
    if (this.text && buffers.hidden) {
      const per = this.text.tokens * this.text.dim;
      branches.forEach((branch, b) => {
        const source = branch === 'cond' ? this.text!.cond : this.text!.uncond;
        for (let r = 0; r < rows; r++) buffers.hidden!.set(source, (b * rows + r) * per);
      });
      feeds.encoder_hidden_states = new ort.Tensor('float32', buffers.hidden, [batch, this.text.tokens, this.text.dim]);
    }
    const result = await this.opened.session.run(feeds);
    const output = result[this.signature.outputName];
    const data = output.data as Float32Array;
    const outChannels = output.dims[1];
    if (output.dims[0] !== batch || (outChannels !== C && outChannels !== 2 * C)) {
      throw new ModelInputError(`UNet output has shape [${output.dims.join(', ')}], expected [${batch}, ${C} or ${2 * C}, ${H}, ${W}]`);
    }
    if (outChannels === C) {
      out.set(data.subarray(0, batch * D));
    } else {
      // Learned variance: the first C channels are the prediction.
      for (let b = 0; b < batch; b++) out.set(data.subarray(b * 2 * D, b * 2 * D + D), b * D);
    }
    output.dispose?.();
  }
}

export class OnnxClassifier implements ClassifierGradient {
  private readonly sampleSize: number;
  private readonly timestepSpec: InputSpec;

  constructor(
    private readonly opened: OpenedSession,
    readonly numClasses: number,
    private readonly shape: ImageShape,
    file: string,
  ) {
    this.sampleSize = shape.channels * shape.height * shape.width;
    const specs = inputSpecs(opened.session);
    for (const name of ['sample', 'timestep', 'class_labels']) {
      if (!specs.has(name)) throw new ModelInputError(`${file}: no input named "${name}" (inputs: ${[...specs.keys()].join(', ')})`);
    }
    if (!opened.session.outputNames.includes('grad')) {
      throw new ModelInputError(`${file}: no "grad" output; classifier guidance needs the input gradient written into the graph`);
    }
    this.timestepSpec = specs.get('timestep')!;
  }

  async gradLogProb(x: Float32Array, rows: number, timestep: number, labels: readonly number[], out: Float32Array): Promise<void> {
    const { channels: C, height: H, width: W } = this.shape;
    const result = await this.opened.session.run(
      {
        sample: new ort.Tensor('float32', x.subarray(0, rows * this.sampleSize), [rows, C, H, W]),
        timestep: timestepTensor(this.timestepSpec, timestep, rows),
        class_labels: new ort.Tensor('int64', BigInt64Array.from(labels, (l) => BigInt(l)), [rows]),
      },
      ['grad'],
    );
    out.set((result.grad.data as Float32Array).subarray(0, rows * this.sampleSize));
  }

  /** The classifier's logits [rows, K] at one timestep (evaluation tools; guidance needs only grad). */
  async logits(x: Float32Array, rows: number, timestep: number): Promise<Float32Array> {
    const { channels: C, height: H, width: W } = this.shape;
    const result = await this.opened.session.run(
      {
        sample: new ort.Tensor('float32', x.subarray(0, rows * this.sampleSize), [rows, C, H, W]),
        timestep: timestepTensor(this.timestepSpec, timestep, rows),
        class_labels: new ort.Tensor('int64', new BigInt64Array(rows), [rows]),
      },
      ['logits'],
    );
    return Float32Array.from(result.logits.data as Float32Array);
  }
}
