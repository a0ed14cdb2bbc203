/**
 * Ours rather than a library: npm's Hugging Face tokenizers are 74 MB of native binaries or
 * read only tokenizer.json, and none reports the dropped part of a truncated prompt.
 *
 * CLIP's byte-level BPE tokenizer (Stable Diffusion 1.x / 2.x), from vocab.json + merges.txt or
 * from a tokenizer.json with a BPE model, written from the published algorithm:
 *
 *  1. clean: Unicode NFC, whitespace runs to one space, trim, lower-case (CLIP's own cleaning
 *     also runs ftfy's mojibake repair, which is not reproduced: prompts are typed text).
 *     "Whitespace" is Unicode's White_Space property, as in the Rust regex engine of Hugging
 *     Face's tokenizers, not JavaScript's \s (which adds U+FEFF and lacks U+0085); lower-casing
 *     maps each code point on its own, like tokenizers' Lowercase (JavaScript's toLowerCase would
 *     turn a word-final capital sigma into "ς" where tokenizers gives "σ");
 *  2. the special tokens <|startoftext|> and <|endoftext|> are split out first (as tokenizers
 *     does with its added tokens), then each stretch between them is pre-split with CLIP's pattern
 *     's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ (case-sensitive on the
 *     lower-cased text; a number is split into single digits);
 *     (steps 1 and 2 are those of the tokenizer.json pipeline, CLIPTokenizerFast. OpenAI's
 *     original Python tokenizer, and transformers' slow CLIPTokenizer, differ in three corners:
 *     Python's lower() keeps the final-sigma rule, their pattern is case-insensitive so "'ſ"
 *     counts as "'s", and OpenAI's matches special tokens in the same pass as the pattern, so
 *     "!<|endoftext|>" is punctuation there);
 *  3. each piece's UTF-8 bytes to GPT-2's printable byte symbols, `</w>` appended to the last one;
 *  4. merges applied by rank (lowest first, every occurrence of the best pair at once) until
 *     no ranked pair is left; each symbol is looked up in the vocabulary;
 *  5. <|startoftext|> + at most 75 tokens + <|endoftext|>, padded to 77 with the folder's pad
 *     token (SD 1.x: <|endoftext|>, SD 2.x: "!").
 *
 * Prompts longer than 75 tokens are truncated, like diffusers and the CLIP model itself (its
 * position embedding has 77 rows); the result says so and which part was dropped, and the
 * pipeline turns that into a warning for the user. Chunking (encoding 75-token pieces
 * separately and concatenating their embeddings, as AUTOMATIC1111 does) changes the UNet's
 * context length, which fixed-shape ONNX exports do not accept, so it is not offered.
 *
 * clipReference.test.ts holds it to the ids that Hugging Face's tokenizers gives 200+ prompts
 * with the real CLIP vocabulary (tools/tokenizer/).
 */
import { existsSync } from 'node:fs';
import { MAX_TOKENIZER_BYTES, readJsonBounded, readTextBounded } from '../../io/json';
import path from 'node:path';
import type { PromptTokenizer, Tokenized } from './wordLevel';

/** Unicode's White_Space property (25 code points); JavaScript's \s differs in U+0085 and U+FEFF. */
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${WS}]+`, 'gu');
const EDGE_WHITESPACE = new RegExp(`^[${WS}]+|[${WS}]+$`, 'gu');

/** CLIP's pre-split pattern, applied between special tokens. */
const CLIP_PATTERN = new RegExp(`'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`, 'gu');
const SPECIAL_TOKENS = /<\|startoftext\|>|<\|endoftext\|>/gu;

const BOS = '<|startoftext|>';
const EOS = '<|endoftext|>';

/** GPT-2/CLIP's reversible byte -> printable character table. */
export function bytesToUnicode(): string[] {
  const table: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) if (printable(b)) table[b] = String.fromCodePoint(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) table[b] = String.fromCodePoint(256 + n++);
  return table;
}

const BYTE_SYMBOLS = bytesToUnicode();
const utf8 = new TextEncoder();

/** CLIP's cleaning without ftfy: NFC, collapse whitespace, trim, lower-case code point by code point. */
export function cleanPrompt(text: string): string {
  const spaced = text.normalize('NFC').replace(WHITESPACE_RUN, ' ').replace(EDGE_WHITESPACE, '');
  let out = '';
  for (const c of spaced) out += c.toLowerCase();
  return out;
}

export interface Piece {
  text: string;
  /** Offset in the cleaned text. */
  index: number;
}

/** CLIP's pre-split of cleaned text: special tokens whole, CLIP's pattern between them. */
export function preSplit(cleaned: string): Piece[] {
  const pieces: Piece[] = [];
  const between = (from: number, to: number) => {
    for (const m of cleaned.slice(from, to).matchAll(CLIP_PATTERN)) pieces.push({ text: m[0], index: from + m.index! });
  };
  let at = 0;
  for (const m of cleaned.matchAll(SPECIAL_TOKENS)) {
    between(at, m.index!);
    pieces.push({ text: m[0], index: m.index! });
    at = m.index! + m[0].length;
  }
  between(at, cleaned.length);
  return pieces;
}

export interface ClipTokenizerOptions {
  /** Tokens per prompt including BOS and EOS (77 for CLIP). */
  maxLength: number;
  padToken: string;
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  /** Suffix marking a word's last symbol. */
  endOfWord?: string;
}

export interface ClipTokenized extends Tokenized {
  /** The cleaned prompt from the first piece that did not fit (empty when nothing was dropped). */
  dropped: string;
  /** Content tokens before truncation (without BOS/EOS). */
  tokenCount: number;
}

export class ClipTokenizer implements PromptTokenizer {
  readonly maxLength: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly unkId: number;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();
  private readonly endOfWord: string;

  constructor(private readonly vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[], options: ClipTokenizerOptions, where = 'tokenizer') {
    const id = (token: string, what: string) => {
      const v = vocab.get(token);
      if (v === undefined) throw new Error(`${where}: the ${what} ${JSON.stringify(token)} is not in the vocabulary`);
      return v;
    };
    if (!Number.isInteger(options.maxLength) || options.maxLength < 3 || options.maxLength > 1024) {
      throw new Error(`${where}: max length ${options.maxLength} is out of range (3..1024)`);
    }
    this.maxLength = options.maxLength;
    this.bosId = id(options.bosToken ?? BOS, 'start token');
    this.eosId = id(options.eosToken ?? EOS, 'end token');
    this.padId = id(options.padToken, 'pad token');
    this.unkId = id(options.unkToken ?? options.eosToken ?? EOS, 'unknown token');
    this.endOfWord = options.endOfWord ?? '</w>';
    merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    this.cache.set(options.bosToken ?? BOS, [options.bosToken ?? BOS]);
    this.cache.set(options.eosToken ?? EOS, [options.eosToken ?? EOS]);
  }

  /** BPE symbols of one pre-split piece. */
  bpe(piece: string): string[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    const bytes = utf8.encode(piece);
    let word = Array.from(bytes, (b) => BYTE_SYMBOLS[b]);
    word[word.length - 1] += this.endOfWord;
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = [word[best], word[best + 1]];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (i < word.length - 1 && word[i] === a && word[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else {
          merged.push(word[i]);
        }
      }
      word = merged;
    }
    if (this.cache.size < 10_000) this.cache.set(piece, word);
    return word;
  }

  encode(text: string): ClipTokenized {
    const cleaned = cleanPrompt(text);
    const ids: number[] = [];
    const pieceOf: number[] = [];
    const unknownWords: string[] = [];
    const pieces = preSplit(cleaned);
    pieces.forEach((piece, p) => {
      for (const symbol of this.bpe(piece.text)) {
        const id = this.vocab.get(symbol);
        if (id === undefined) unknownWords.push(piece.text);
        ids.push(id ?? this.unkId);
        pieceOf.push(p);
      }
    });
    const room = this.maxLength - 2;
    const truncated = ids.length > room;
    const dropped = truncated ? cleaned.slice(pieces[pieceOf[room]].index) : '';
    const out = [this.bosId, ...ids.slice(0, room), this.eosId];
    while (out.length < this.maxLength) out.push(this.padId);
    return { ids: out, unknownWords: [...new Set(unknownWords)], truncated, dropped, tokenCount: ids.length };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJsonFile(file: string, shown: string): unknown {
  return readJsonBounded(file, MAX_TOKENIZER_BYTES, shown, (m) => new Error(m));
}

/** A special token entry: "text" or {"content": "text", ...}. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/** Special tokens and the max length from special_tokens_map.json, then tokenizer_config.json. */
function readSpecialTokens(dir: string): { pad?: string; bos?: string; eos?: string; unk?: string; maxLength?: number } {
  const out: { pad?: string; bos?: string; eos?: string; unk?: string; maxLength?: number } = {};
  for (const name of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    const json = readJsonFile(file, `tokenizer/${name}`);
    if (!isObject(json)) throw new Error(`tokenizer/${name} must be a JSON object`);
    out.pad ??= tokenText(json.pad_token);
    out.bos ??= tokenText(json.bos_token);
    out.eos ??= tokenText(json.eos_token);
    out.unk ??= tokenText(json.unk_token);
    // transformers writes a huge sentinel (1e30) when it does not know the length: ignore those.
    if (typeof json.model_max_length === 'number' && Number.isInteger(json.model_max_length) && json.model_max_length <= 1024) out.maxLength ??= json.model_max_length;
  }
  return out;
}

function parseMergeLines(text: string, shown: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`${shown} line ${i + 1}: expected two symbols separated by one space`);
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

function vocabMap(raw: unknown, shown: string): Map<string, number> {
  if (!isObject(raw)) throw new Error(`${shown} must map tokens to ids`);
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(raw)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${shown}: the id of ${JSON.stringify(token)} must be a non-negative integer`);
    vocab.set(token, id as number);
  }
  return vocab;
}

/** Does this tokenizer/ folder hold a CLIP BPE tokenizer (vocab.json + merges.txt, or a BPE tokenizer.json)? */
export function isClipTokenizerDir(dir: string): boolean {
  if (existsSync(path.join(dir, 'vocab.json')) && existsSync(path.join(dir, 'merges.txt'))) return true;
  const file = path.join(dir, 'tokenizer.json');
  if (!existsSync(file)) return false;
  try {
    const json = readJsonFile(file, 'tokenizer/tokenizer.json');
    return isObject(json) && isObject(json.model) && json.model.type === 'BPE';
  } catch {
    return false;
  }
}

/** Reads a CLIP tokenizer from a tokenizer/ folder (vocab.json + merges.txt preferred over tokenizer.json). */
export function loadClipTokenizer(dir: string): ClipTokenizer {
  const special = readSpecialTokens(dir);
  let vocab: Map<string, number>;
  let merges: [string, string][];
  let endOfWord = '</w>';
  let padFallback: string | undefined;
  let where: string;
  if (existsSync(path.join(dir, 'vocab.json')) && existsSync(path.join(dir, 'merges.txt'))) {
    where = 'tokenizer/vocab.json + merges.txt';
    vocab = vocabMap(readJsonFile(path.join(dir, 'vocab.json'), 'tokenizer/vocab.json'), 'tokenizer/vocab.json');
    merges = parseMergeLines(readTextBounded(path.join(dir, 'merges.txt'), MAX_TOKENIZER_BYTES, 'tokenizer/merges.txt'), 'tokenizer/merges.txt');
  } else {
    where = 'tokenizer/tokenizer.json';
    const json = readJsonFile(path.join(dir, 'tokenizer.json'), where);
    if (!isObject(json) || !isObject(json.model) || json.model.type !== 'BPE') throw new Error(`${where}: expected a BPE model`);
    const model = json.model;
    vocab = vocabMap(model.vocab, `${where} model.vocab`);
    if (!Array.isArray(model.merges)) throw new Error(`${where}: model.merges must be a list`);
    merges = model.merges.map((m, i) => {
      if (typeof m === 'string') return parseMergeLines(m, `${where} merge ${i}`)[0];
      if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]] as [string, string];
      throw new Error(`${where}: merge ${i} must be "a b" or ["a", "b"]`);
    });
    if (typeof model.end_of_word_suffix === 'string') endOfWord = model.end_of_word_suffix;
    if (Array.isArray(json.added_tokens)) {
      for (const t of json.added_tokens) {
        if (isObject(t) && typeof t.content === 'string' && Number.isInteger(t.id) && !vocab.has(t.content)) vocab.set(t.content, t.id as number);
      }
    }
    if (isObject(json.padding)) padFallback = tokenText(json.padding.pad_token);
  }
  if (merges.length === 0) throw new Error(`${where}: no merges`);
  return new ClipTokenizer(
    vocab,
    merges,
    {
      maxLength: special.maxLength ?? 77,
      padToken: special.pad ?? padFallback ?? special.eos ?? EOS,
      bosToken: special.bos ?? BOS,
      eosToken: special.eos ?? EOS,
      unkToken: special.unk ?? special.eos ?? EOS,
      endOfWord,
    },
    where,
  );
}
