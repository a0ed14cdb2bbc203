/**
 * A word-level tokenizer in Hugging Face `tokenizers`' tokenizer.json format (model type
 * WordLevel): Lowercase normalizer, Whitespace pre-tokenizer (the regex \w+|[^\w\s]+),
 * vocabulary lookup with an unknown token, then right truncation and fixed padding. The
 * embedded default model uses it; CLIP's BPE is a separate tokenizer.
 */
import { existsSync } from 'node:fs';
import { MAX_CONFIG_BYTES, MAX_TOKENIZER_BYTES, readJsonBounded } from '../../io/json';
import path from 'node:path';

export interface Tokenized {
  ids: number[];
  /** Words that were not in the vocabulary (encoded as the unknown token). */
  unknownWords: string[];
  /** True when the prompt had more tokens than fit and the rest was dropped. */
  truncated: boolean;
  /** The part of the (cleaned) prompt that was dropped, when the tokenizer can tell. */
  dropped?: string;
}

export interface PromptTokenizer {
  readonly maxLength: number;
  encode(text: string): Tokenized;
}

/** \w in Rust's regex (what `tokenizers` uses): alphabetic, marks, decimal digits, connector punctuation. */
const WHITESPACE_SPLIT = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]+|[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}\s]+/gu;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class WordLevelTokenizer implements PromptTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly unkId: number;
  private readonly padId: number;
  private readonly lowercase: boolean;

  constructor(json: unknown, readonly maxLength: number, where = 'tokenizer.json') {
    if (!isObject(json) || !isObject(json.model)) throw new Error(`${where}: expected a tokenizer.json object with a "model"`);
    const model = json.model;
    if (model.type !== 'WordLevel') throw new Error(`${where}: model type ${JSON.stringify(model.type)} is not supported (expected WordLevel)`);
    if (!isObject(model.vocab)) throw new Error(`${where}: model.vocab must be an object of word -> id`);
    this.vocab = new Map();
    for (const [word, id] of Object.entries(model.vocab)) {
      if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${where}: vocab id of ${JSON.stringify(word)} must be a non-negative integer`);
      this.vocab.set(word, id as number);
    }
    const unk = typeof model.unk_token === 'string' ? model.unk_token : undefined;
    if (unk === undefined || !this.vocab.has(unk)) throw new Error(`${where}: model.unk_token must name a vocabulary entry`);
    this.unkId = this.vocab.get(unk)!;
    const padding = isObject(json.padding) ? json.padding : {};
    this.padId = Number.isInteger(padding.pad_id) ? (padding.pad_id as number) : 0;
    const normalizer = isObject(json.normalizer) ? json.normalizer : null;
    if (normalizer && normalizer.type !== 'Lowercase') throw new Error(`${where}: normalizer ${JSON.stringify(normalizer.type)} is not supported (expected Lowercase)`);
    this.lowercase = normalizer !== null;
    const pre = isObject(json.pre_tokenizer) ? json.pre_tokenizer.type : undefined;
    if (pre !== 'Whitespace') throw new Error(`${where}: pre_tokenizer ${JSON.stringify(pre)} is not supported (expected Whitespace)`);
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > 4096) throw new Error(`${where}: max length ${maxLength} is out of range`);
  }

  encode(text: string): Tokenized {
    const normalized = this.lowercase ? text.toLowerCase() : text;
    const words = normalized.match(WHITESPACE_SPLIT) ?? [];
    const unknownWords: string[] = [];
    const ids = words.map((w) => {
      const id = this.vocab.get(w);
      if (id === undefined) {
        unknownWords.push(w);
        return this.unkId;
      }
      return id;
    });
    const truncated = ids.length > this.maxLength;
    const out = ids.slice(0, this.maxLength);
    while (out.length < this.maxLength) out.push(this.padId);
    return { ids: out, unknownWords, truncated };
  }
}

/** Reads tokenizer/tokenizer.json (+ tokenizer_config.json for model_max_length). */
export function loadWordLevelTokenizer(dir: string): WordLevelTokenizer {
  const file = path.join(dir, 'tokenizer.json');
  if (!existsSync(file)) throw new Error(`tokenizer/tokenizer.json is missing`);
  const json = readJsonBounded(file, MAX_TOKENIZER_BYTES, 'tokenizer/tokenizer.json', (m) => new Error(m));
  const configFile = path.join(dir, 'tokenizer_config.json');
  let maxLength: unknown;
  if (existsSync(configFile)) {
    maxLength = (readJsonBounded(configFile, MAX_CONFIG_BYTES, 'tokenizer/tokenizer_config.json', (m) => new Error(m)) as { model_max_length?: unknown } | null)?.model_max_length;
  }
  if (maxLength === undefined && isObject(json) && isObject(json.truncation)) maxLength = json.truncation.max_length;
  if (typeof maxLength !== 'number') throw new Error('tokenizer: no model_max_length in tokenizer_config.json nor truncation.max_length in tokenizer.json');
  return new WordLevelTokenizer(json, maxLength, 'tokenizer/tokenizer.json');
}
