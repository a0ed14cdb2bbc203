import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { WordLevelTokenizer, loadWordLevelTokenizer } from './wordLevel';

const root = path.resolve(__dirname, '../../../../..');
const cases = JSON.parse(readFileSync(path.join(root, 'tools/train/tokenizer_cases.json'), 'utf8')) as { cases: { prompt: string; ids: number[] }[] };
const tokenizer = loadWordLevelTokenizer(path.join(root, 'resources/models/noto-emoji-32/tokenizer'));

test.each(cases.cases.map((c) => [c.prompt, c.ids] as const))('%j gives the training tokenizer\'s ids', (prompt, ids) => {
  expect(tokenizer.encode(prompt).ids).toEqual(ids);
});

test('unknown words and truncation are reported', () => {
  const t = tokenizer.encode('a zorblax apple ' + 'red '.repeat(20));
  expect(t.unknownWords).toContain('zorblax');
  expect(t.truncated).toBe(true);
  expect(t.ids).toHaveLength(16);
});

test('malformed tokenizer.json is refused with the field at fault', () => {
  expect(() => new WordLevelTokenizer({ model: { type: 'BPE' } }, 16)).toThrow(/model type "BPE"/);
  expect(() => new WordLevelTokenizer({ model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: '<unk>' }, pre_tokenizer: { type: 'Whitespace' } }, 16)).toThrow(/unk_token/);
  expect(() => new WordLevelTokenizer({ model: { type: 'WordLevel', vocab: { '<unk>': 0 }, unk_token: '<unk>' }, pre_tokenizer: { type: 'Metaspace' } }, 16)).toThrow(/pre_tokenizer/);
});
