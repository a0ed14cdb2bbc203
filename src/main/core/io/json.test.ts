import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { InputFileError } from './files';
import { readJsonBounded } from './json';

const dir = mkdtempSync(path.join(os.tmpdir(), 'split-json-'));
const fail = (m: string) => new Error(m);

test('a file that is not JSON is described by place, never quoted', () => {
  writeFileSync(path.join(dir, 'secret.json'), 'root:x:0:0:root:/root:/bin/bash\n');
  expect(() => readJsonBounded(path.join(dir, 'secret.json'), 1024, 'tokenizer/tokenizer.json', fail)).toThrow(/tokenizer\/tokenizer\.json is not valid JSON \((at line 1, column 1|an unexpected character)\)/);
  expect(() => readJsonBounded(path.join(dir, 'secret.json'), 1024, 'x', fail)).not.toThrow(/root/);
  writeFileSync(path.join(dir, 'short.json'), '{"a": [1, 2');
  expect(() => readJsonBounded(path.join(dir, 'short.json'), 1024, 'x', fail)).toThrow(/x is not valid JSON \(at line 1, column 12\)/);
});

test('devices and oversized files are refused before reading', () => {
  expect(() => readJsonBounded('/dev/zero', 1024, 'tokenizer/vocab.json', fail)).toThrow(InputFileError);
  writeFileSync(path.join(dir, 'big.json'), JSON.stringify({ a: 'x'.repeat(2000) }));
  expect(() => readJsonBounded(path.join(dir, 'big.json'), 1024, 'big.json', fail)).toThrow(/more than the 1024/);
  expect(readJsonBounded(path.join(dir, 'big.json'), 4096, 'big.json', fail)).toMatchObject({ a: expect.any(String) });
});
