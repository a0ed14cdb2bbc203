#!/usr/bin/env node
/**
 * Writes tools/tokenizer/clip-reference.json: the token ids that Hugging Face's own tokenizer
 * gives the prompts of clipPrompts.mjs with CLIP's real vocabulary, for
 * src/main/core/pipelines/tokenizers/clipReference.test.ts to hold our tokenizer to.
 *
 * The reference is the Rust `tokenizers` library (npm package tokenizers, prebuilt native
 * binding; the same engine as transformers' CLIPTokenizerFast and the tokenizer.json files that
 * CLIP and Stable Diffusion checkpoints ship), loaded with the pipeline that transformers'
 * CLIPConverter builds for CLIP:
 *   normalizer      NFC, Replace(\s+ -> " "), Lowercase
 *   pre-tokenizer   Split('s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+, removed, inverted),
 *                   ByteLevel(add_prefix_space=false)
 *   model           BPE(end_of_word_suffix "</w>", unk "<|endoftext|>")
 *   post-processor  RobertaProcessing(cls <|startoftext|>, sep <|endoftext|>)
 *   special tokens  <|startoftext|> 49406, <|endoftext|> 49407 (normalized, as in CLIP's files)
 * and the vocabulary of clipVocabulary.mjs (byte-identical to SD 1.x's vocab.json/merges.txt).
 * Padding and truncation are those of diffusers' Stable Diffusion pipelines:
 * tokenizer(prompt, padding="max_length", max_length=77, truncation=True), pad <|endoftext|>
 * (SD 1.x) or "!" (SD 2.x, a few prompts).
 *
 * `tokenizers` is not a project dependency (74 MB of native builds for every platform): this
 * script installs the pinned version into a cache folder outside the repository the first time
 * (npm registry only), or uses CLIP_REFERENCE_TOKENIZERS_DIR if set to a folder whose
 * node_modules holds it.
 *
 * Usage: node tools/tokenizer/make_clip_reference.mjs
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clipVocabularyFiles } from './clipVocabulary.mjs';
import { CLIP_PROMPT_GROUPS, SD2_PAD_PROMPTS } from './clipPrompts.mjs';

const TOKENIZERS_VERSION = '0.23.2';
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'clip-reference.json');

function loadTokenizers() {
  const dir = process.env.CLIP_REFERENCE_TOKENIZERS_DIR ?? path.join(os.tmpdir(), `split-studio-tokenizers-${TOKENIZERS_VERSION}`);
  const pkg = path.join(dir, 'node_modules', 'tokenizers', 'package.json');
  if (!existsSync(pkg)) {
    mkdirSync(dir, { recursive: true });
    console.log(`installing tokenizers@${TOKENIZERS_VERSION} into ${dir}`);
    execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', `tokenizers@${TOKENIZERS_VERSION}`], { stdio: 'inherit' });
  }
  const require = createRequire(path.join(dir, 'node_modules', 'x.js'));
  const version = require('tokenizers/package.json').version;
  if (version !== TOKENIZERS_VERSION) throw new Error(`${dir}: tokenizers ${version}, expected ${TOKENIZERS_VERSION}`);
  return require('tokenizers');
}

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });

/** The tokenizer.json that transformers' CLIPConverter writes for openai/clip-vit-large-patch14. */
function clipTokenizerJson(vocab, merges) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(49406, '<|startoftext|>'), special(49407, '<|endoftext|>')],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', 49407], cls: ['<|startoftext|>', 49406], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(vocab),
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

async function main() {
  const { Tokenizer } = loadTokenizers();
  const { vocab, merges } = await clipVocabularyFiles();
  const json = JSON.stringify(clipTokenizerJson(vocab, merges));
  const plain = Tokenizer.fromString(json); // no truncation, no padding: the full token count
  const sd1 = Tokenizer.fromString(json);
  sd1.setTruncation(77);
  sd1.setPadding({ maxLength: 77, padId: 49407, padToken: '<|endoftext|>' });
  const sd2 = Tokenizer.fromString(json);
  sd2.setTruncation(77);
  sd2.setPadding({ maxLength: 77, padId: 0, padToken: '!' });

  const groups = [];
  let count = 0;
  for (const [name, prompts] of Object.entries(CLIP_PROMPT_GROUPS)) {
    const cases = [];
    for (const text of prompts) {
      const full = await plain.encode(text);
      const padded = await sd1.encode(text);
      const ids = padded.getIds();
      if (ids.length !== 77 || ids[0] !== 49406) throw new Error(`unexpected reference encoding of ${JSON.stringify(text)}`);
      const entry = { text, ids, tokenCount: full.getIds().length - 2 };
      if (SD2_PAD_PROMPTS.includes(text)) entry.sd2Ids = (await sd2.encode(text)).getIds();
      cases.push(entry);
      count++;
    }
    groups.push({ name, cases });
  }
  for (const text of SD2_PAD_PROMPTS) {
    if (!groups.some((g) => g.cases.some((c) => c.text === text && c.sd2Ids))) throw new Error(`SD 2.x prompt ${JSON.stringify(text)} is not among the prompts`);
  }

  // One case per line, so that a change of reference shows as a readable diff.
  const lines = [
    '{',
    `  "reference": ${JSON.stringify(`tokenizers@${TOKENIZERS_VERSION} (Hugging Face, Rust) with transformers' CLIPConverter pipeline; vocabulary byte-identical to SD 1.x tokenizer/vocab.json + merges.txt; padding="max_length", max_length=77, truncation=True`)},`,
    '  "maxLength": 77,',
    '  "padTokens": { "ids": "<|endoftext|> (SD 1.x)", "sd2Ids": "! (SD 2.x)" },',
    '  "groups": [',
    groups
      .map(
        (g) =>
          `    { "name": ${JSON.stringify(g.name)}, "cases": [\n` +
          g.cases.map((c) => `      ${JSON.stringify(c)}`).join(',\n') +
          '\n    ] }',
      )
      .join(',\n'),
    '  ]',
    '}',
    '',
  ];
  writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${path.relative(process.cwd(), out)}: ${count} prompts`);
}

await main();
