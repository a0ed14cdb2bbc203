/** The text encoder (text_encoder/model.onnx): input_ids -> last_hidden_state. */
import * as ort from 'onnxruntime-node';
import { halfToFloat32 } from '../runtime/float16';
import { type OpenedSession, inputSpecs } from '../runtime/sessions';
import type { PromptPair } from '../../../shared/settings';
import { SettingsError } from '../engine/errors';
import { ModelInputError } from './errors';
import type { PromptTokenizer } from './tokenizers/wordLevel';

export interface Embeddings {
  /** rows * tokens * dim values. */
  data: Float32Array;
  tokens: number;
  dim: number;
}

export class OnnxTextEncoder {
  private readonly idType: 'int64' | 'int32';
  private readonly outputName: string;
  /** Fixed sequence length of input_ids, or null where it is free. */
  readonly fixedTokens: number | null;

  constructor(private readonly opened: OpenedSession, file = 'text_encoder/model.onnx') {
    const spec = inputSpecs(opened.session).get('input_ids');
    if (!spec) throw new ModelInputError(`${file}: no input named "input_ids"`);
    if (spec.type !== 'int64' && spec.type !== 'int32') throw new ModelInputError(`${file}: "input_ids" is ${spec.type}, expected int64 or int32`);
    if (spec.shape.length !== 2) throw new ModelInputError(`${file}: "input_ids" has rank ${spec.shape.length}, expected 2 ([batch, tokens])`);
    this.idType = spec.type;
    const tokens = spec.shape[1];
    this.fixedTokens = typeof tokens === 'number' && tokens > 0 ? tokens : null;
    const names = opened.session.outputNames;
    this.outputName = names.includes('last_hidden_state') ? 'last_hidden_state' : names[0];
  }

  /** Encodes equally long rows of token ids in one call (float16 outputs are converted to float32). */
  async encode(rows: readonly (readonly number[])[]): Promise<Embeddings> {
    const tokens = rows[0].length;
    const flat = rows.flat();
    const ids = this.idType === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(flat, (v) => BigInt(v)), [rows.length, tokens]) : new ort.Tensor('int32', Int32Array.from(flat), [rows.length, tokens]);
    const result = await this.opened.session.run({ input_ids: ids }, [this.outputName]);
    const out = result[this.outputName];
    if (out.dims.length !== 3 || out.dims[0] !== rows.length || out.dims[1] !== tokens) {
      throw new ModelInputError(`text encoder output has shape [${out.dims.join(', ')}], expected [${rows.length}, ${tokens}, dim]`);
    }
    let data: Float32Array;
    if (out.type === 'float32') data = Float32Array.from(out.data as Float32Array);
    else if (out.type === 'float16') data = halfToFloat32(out.data as Uint16Array);
    else throw new ModelInputError(`text encoder output "${this.outputName}" is ${out.type}, expected float32 or float16`);
    out.dispose?.();
    return { data, tokens, dim: out.dims[2] };
  }
}

/** Prompt embeddings for the conditional and unconditional branches ([tokens, dim] each), and the token ids they came from. */
export interface PromptEmbeddings {
  cond: Float32Array;
  uncond: Float32Array;
  tokens: number;
  dim: number;
  condIds: number[];
  uncondIds: number[];
}

/**
 * Prompt and negative prompt as embeddings, in one batch-2 text-encoder call ([uncond, cond]),
 * with the user-facing warnings of each (truncation, unknown words) appended to `warnings`.
 */
async function encodePromptPair(tokenizer: PromptTokenizer, encoder: OnnxTextEncoder, prompt: string, negative: string, warnings: string[]): Promise<PromptEmbeddings> {
  const cond = tokenizer.encode(prompt);
  const uncond = tokenizer.encode(negative);
  for (const [what, t] of [['prompt', cond], ['negative prompt', uncond]] as const) {
    if (t.truncated) {
      warnings.push(
        t.dropped
          ? `the ${what} is longer than ${tokenizer.maxLength} tokens; this part was ignored: "${t.dropped}"`
          : `the ${what} is longer than ${tokenizer.maxLength} tokens; the rest was ignored`,
      );
    }
    if (t.unknownWords.length) warnings.push(`the ${what} has words this model does not know: ${[...new Set(t.unknownWords)].join(', ')}`);
  }
  const embeddings = await encoder.encode([uncond.ids, cond.ids]);
  const per = embeddings.tokens * embeddings.dim;
  return {
    uncond: embeddings.data.subarray(0, per),
    cond: embeddings.data.subarray(per, 2 * per),
    tokens: embeddings.tokens,
    dim: embeddings.dim,
    condIds: cond.ids,
    uncondIds: uncond.ids,
  };
}

/** A folder's text networks: its tokenizer and text encoder. */
export interface TextNetworks {
  tokenizer: PromptTokenizer;
  encoder: OnnxTextEncoder;
}

/** The prompt pair of a run, or undefined for a model without a text encoder (which refuses a prompt). */
export async function encodeRunPrompts(text: TextNetworks | undefined, modelName: string, prompts: PromptPair, warnings: string[]): Promise<PromptEmbeddings | undefined> {
  const { prompt, negativePrompt } = prompts;
  if (text) return encodePromptPair(text.tokenizer, text.encoder, prompt, negativePrompt, warnings);
  if (prompt || negativePrompt) throw new SettingsError(`${modelName} has no text encoder, so a prompt cannot be used`, { field: 'prompt', kind: 'unsupported' });
  return undefined;
}
