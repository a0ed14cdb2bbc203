/**
 * The noisy classifier of a pixel-space folder (classifier/model.onnx) as the engine's
 * ClassifierGradient: the gradient of log p(y | x_t) comes from the graph's own `grad` output
 * (written into the ONNX file by the exporter), so no autodiff runs here.
 */
import * as ort from 'onnxruntime-node';
import type { ImageShape } from '../engine/guidance/consistency';
import type { ClassifierGradient } from '../engine/model';
import { type InputSpec, type OpenedSession, inputSpecs } from '../runtime/sessions';
import { ModelInputError } from './errors';
import { timestepFeed } from './onnxTensors';

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
        timestep: timestepFeed(this.timestepSpec, timestep, rows),
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
        timestep: timestepFeed(this.timestepSpec, timestep, rows),
        class_labels: new ort.Tensor('int64', new BigInt64Array(rows), [rows]),
      },
      ['logits'],
    );
    return Float32Array.from(result.logits.data as Float32Array);
  }
}
