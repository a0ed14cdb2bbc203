/**
 * CLIP's BPE tokenizer: the fixtures' reference ids (computed by the generator's independent
 * Python implementation) and hand-checked cases on a hand-made vocabulary.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ClipTokenizer, bytesToUnicode, cleanPrompt, loadClipTokenizer, preSplit } from './clip';
import { loadPromptTokenizer } from './load';
import { WordLevelTokenizer } from './wordLevel';

const root = path.resolve(__dirname, '../../../../..');
const fixtures = path.join(root, 'e2e/fixtures');
const references = JSON.parse(readFileSync(path.join(fixtures, 'sd-references.json'), 'utf8')) as {
  tokenizer: { vocab_size: number; cases: { text: string; sd1: number[]; sd2: number[]; truncated: boolean }[] };
};

describe('fixture tokenizers match the generator\'s reference ids', () => {
  const sd1 = loadClipTokenizer(path.join(fixtures, 'tiny-sd-eps/tokenizer'));
  const sd2 = loadClipTokenizer(path.join(fixtures, 'tiny-sd-v/tokenizer'));
  const fromJson = loadClipTokenizer(path.join(fixtures, 'tiny-sd-inpaint/tokenizer'));

  test.each(references.tokenizer.cases.map((c) => [c.text.slice(0, 48), c] as const))('%s', (_, c) => {
    expect(sd1.encode(c.text).ids).toEqual(c.sd1);
    expect(sd2.encode(c.text).ids).toEqual(c.sd2);
    expect(fromJson.encode(c.text).ids).toEqual(c.sd1);
    expect(sd1.encode(c.text).truncated).toBe(c.truncated);
  });

  test('pad tokens come from special_tokens_map.json: <|endoftext|> (SD 1.x) and "!" (SD 2.x)', () => {
    expect(sd1.padId).toBe(sd1.eosId);
    expect(sd2.padId).toBe(0);
    expect(sd1.maxLength).toBe(77);
  });

  test('the folder decides the tokenizer: CLIP BPE for vocab.json/merges.txt or a BPE tokenizer.json, word level otherwise', () => {
    expect(loadPromptTokenizer(path.join(fixtures, 'tiny-sd-eps/tokenizer'))).toBeInstanceOf(ClipTokenizer);
    expect(loadPromptTokenizer(path.join(fixtures, 'tiny-sd-inpaint/tokenizer'))).toBeInstanceOf(ClipTokenizer);
    expect(loadPromptTokenizer(path.join(root, 'resources/models/noto-emoji-32/tokenizer'))).toBeInstanceOf(WordLevelTokenizer);
  });
});

describe('CLIP rules, hand-checked', () => {
  test('byte-level symbols: printable bytes map to themselves, the rest to 256 + n (space is "Ġ")', () => {
    const table = bytesToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table[0x21]).toBe('!');
    expect(table[0x61]).toBe('a');
    expect(table[0x20]).toBe('Ġ');
    expect(table[0x0a]).toBe('Ċ');
    expect(table[0xc3]).toBe('Ã');
  });

  test('cleaning: NFC, whitespace collapsed, trimmed, lower-cased', () => {
    expect(cleanPrompt('  A\tBig \n\n Cat  ')).toBe('a big cat');
    expect(cleanPrompt('nai\u0308ve')).toBe('naïve');
  });

  test('cleaning follows Hugging Face tokenizers: Unicode White_Space, lower-casing one code point at a time', () => {
    expect(cleanPrompt('\u0085next\u0085line\u0085')).toBe('next line'); // U+0085 is White_Space, not JavaScript \s
    expect(cleanPrompt('\ufeffbyte\ufefforder\ufeff')).toBe('\ufeffbyte\ufefforder\ufeff'); // U+FEFF is JavaScript \s, not White_Space
    expect(cleanPrompt('ΟΔΟΣ')).toBe('οδοσ'); // no final-sigma rule
    expect(cleanPrompt('İ')).toBe('i\u0307');
  });

  test.each([
    ["it's a cat's toy", ['it', "'s", 'a', 'cat', "'s", 'toy']],
    ["don't, they're, we'll, i'd, you've, i'm", ['don', "'t", ',', 'they', "'re", ',', 'we', "'ll", ',', 'i', "'d", ',', 'you', "'ve", ',', 'i', "'m"]],
    ["...'s and o'neil", ["...'", 's', 'and', 'o', "'", 'neil']],
    ['3.14 and 2nd, 1234', ['3', '.', '1', '4', 'and', '2', 'nd', ',', '1', '2', '3', '4']],
    ['(parentheses) [x] --', ['(', 'parentheses', ')', '[', 'x', ']', '--']],
    ['日本語 🐱🐶 ½²', ['日本語', '🐱🐶', '½', '²']],
    ['a<|endoftext|>b', ['a', '<|endoftext|>', 'b']],
    ['wow!<|endoftext|>!', ['wow', '!', '<|endoftext|>', '!']],
    ['<|ENDOFTEXT|>', ['<|endoftext|>']],
    ["it'ſ", ['it', "'", 'ſ']],
    ['a\ufeffb', ['a', '\ufeff', 'b']],
  ])('pre-split %j', (text, pieces) => {
    expect(preSplit(cleanPrompt(text)).map((p) => p.text)).toEqual(pieces);
  });

  // A hand-made CLIP-shaped vocabulary: the 256 byte symbols in CLIP's order (printable bytes
  // first: "!" is 0), the same with </w>, four merges, BOS, EOS.
  const table = bytesToUnicode();
  const symbols = [...table].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  const merges: [string, string][] = [['c', 'a'], ['ca', 't</w>'], ['i', 't'], ["'", 's</w>']];
  const list = [...symbols, ...symbols.map((s) => s + '</w>'), ...merges.map(([a, b]) => a + b), '<|startoftext|>', '<|endoftext|>'];
  const vocab = new Map(list.map((t, i) => [t, i]));
  const sym = (byte: number, end = false) => symbols.indexOf(table[byte]) + (end ? 256 : 0);
  const tok = new ClipTokenizer(vocab, merges, { maxLength: 77, padToken: '<|endoftext|>' });
  const [CAT, IT, APOS_S, BOS, EOS] = [513, 514, 515, 516, 517];
  const content = (text: string) => {
    const ids = tok.encode(text).ids;
    return ids.slice(1, ids.indexOf(EOS, 1));
  };

  test('merges by rank, </w> on the last symbol', () => {
    expect(content('Cat')).toEqual([CAT]);
    expect(content('cats')).toEqual([512, sym(0x74), sym(0x73, true)]); // "ca" "t" "s</w>": "ca t" is not a merge
    expect(content('it')).toEqual([sym(0x69), sym(0x74, true)]); // "i t</w>" is not a merge ("i t" is)
    expect(content('its')).toEqual([IT, sym(0x73, true)]);
    expect(content("it's")).toEqual([sym(0x69), sym(0x74, true), APOS_S]);
  });

  test('numbers are single digits, punctuation runs stay together, unicode goes through UTF-8 bytes', () => {
    expect(content('2023!!')).toEqual([sym(0x32, true), sym(0x30, true), sym(0x32, true), sym(0x33, true), sym(0x21), sym(0x21, true)]);
    expect(content('é')).toEqual([sym(0xc3), sym(0xa9, true)]); // U+00E9 = C3 A9
    expect(content('e\u0301')).toEqual(content('é')); // NFC first
    expect(content('🐱')).toEqual([sym(0xf0), sym(0x9f), sym(0x90), sym(0xb1, true)]);
  });

  test('BOS, EOS, padding, and a literal special token in the prompt', () => {
    const { ids } = tok.encode('a <|endoftext|> b');
    expect(ids.slice(0, 6)).toEqual([BOS, sym(0x61, true), EOS, sym(0x62, true), EOS, EOS]);
    expect(ids).toHaveLength(77);
    const sd2 = new ClipTokenizer(vocab, merges, { maxLength: 77, padToken: '!' });
    expect(sd2.encode('cat').ids.slice(0, 4)).toEqual([BOS, CAT, EOS, 0]);
    expect(tok.encode('').ids.slice(0, 3)).toEqual([BOS, EOS, EOS]);
  });

  test('more than 75 tokens: truncated, and the dropped part is named', () => {
    const r = tok.encode(Array(80).fill('cat').join(' ') + ', the end');
    expect(r.ids).toHaveLength(77);
    expect(r.ids[76]).toBe(EOS);
    expect(r.ids.slice(1, 76).every((id) => id === CAT)).toBe(true);
    expect(r.truncated).toBe(true);
    expect(r.tokenCount).toBe(80 + 1 + 3 + 3); // cat x 80, ",", t h e</w>, e n d</w>
    expect(r.dropped).toBe('cat cat cat cat cat, the end');
    const exact = tok.encode(Array(75).fill('cat').join(' '));
    expect(exact.truncated).toBe(false);
    expect(exact.dropped).toBe('');
  });

  test('a vocabulary without the pad token is refused with the reason', () => {
    expect(() => new ClipTokenizer(vocab, merges, { maxLength: 77, padToken: '<pad>' })).toThrow(/pad token "<pad>" is not in the vocabulary/);
  });
});
