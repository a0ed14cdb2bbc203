/** The text encoder (text_encoder/model.onnx): input_ids -> last_hidden_state. */
import * as ort from 'onnxruntime-node';
import { type OpenedSession, inputSpecs } from '../runtime/sessions';
import { ModelInputError } from './onnxPixel';

export interface Embeddings {
  /** rows * tokens * dim values. */
  data: Float32Array;
  tokens: number;
  dim: number;
}

export class OnnxTextEncoder {
  private readonly idType: 'int64' | 'int32';
  private readonly outputName: string;

  constructor(private readonly opened: OpenedSession, file = 'text_encoder/model.onnx') {
    const spec = inputSpecs(opened.session).get('input_ids');
    if (!spec) throw new ModelInputError(`${file}: no input named "input_ids"`);
    if (spec.type !== 'int64' && spec.type !== 'int32') throw new ModelInputError(`${file}: "input_ids" is ${spec.type}, expected int64 or int32`);
    if (spec.shape.length !== 2) throw new ModelInputError(`${file}: "input_ids" has rank ${spec.shape.length}, expected 2 ([batch, tokens])`);
    this.idType = spec.type;
    const names = opened.session.outputNames;
    this.outputName = names.includes('last_hidden_state') ? 'last_hidden_state' : names[0];
  }

  /** Encodes equally long rows of token ids in one call. */
  async encode(rows: readonly (readonly number[])[]): Promise<Embeddings> {
    const tokens = rows[0].length;
    const flat = rows.flat();
    const ids = this.idType === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), [rows.length, tokens]) : new ort.Tensor('int32', Int32Array.from(flat), [rows.length, tokens]);
    const result = await this.opened.session.run({ input_ids: ids }, [this.outputName]);
    const out = result[this.outputName];
    if (out.dims.length !== 3 || out.dims[0] !== rows.length || out.dims[1] !== tokens) {
      throw new ModelInputError(`text encoder output has shape [${out.dims.join(', ')}], expected [${rows.length}, ${tokens}, dim]`);
    }
    return { data: Float32Array.from(out.data as Float32Array), tokens, dim: out.dims[2] };
  }
}
