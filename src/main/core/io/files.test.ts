import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { InputFileError, readFileBounded } from './files';

const dir = mkdtempSync(path.join(os.tmpdir(), 'split-files-'));

test('reads regular files (through symlinks) within the bound', () => {
  writeFileSync(path.join(dir, 'a.bin'), Buffer.from([1, 2, 3]));
  symlinkSync(path.join(dir, 'a.bin'), path.join(dir, 'link.bin'));
  expect([...readFileBounded(path.join(dir, 'a.bin'), 3)]).toEqual([1, 2, 3]);
  expect([...readFileBounded(path.join(dir, 'link.bin'), 10)]).toEqual([1, 2, 3]);
});

test('refuses devices, FIFOs, folders, missing and oversized files before reading, with a specific message', () => {
  mkdirSync(path.join(dir, 'folder'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  const cases: [string, RegExp][] = [
    ['/dev/zero', /not a regular file/],
    [path.join(dir, 'fifo'), /not a regular file/],
    [path.join(dir, 'folder'), /is a folder/],
    [path.join(dir, 'absent'), /no such file/],
  ];
  for (const [file, message] of cases) {
    expect(() => readFileBounded(file, 1024, 'the input')).toThrow(InputFileError);
    expect(() => readFileBounded(file, 1024, 'the input')).toThrow(message);
  }
  expect(() => readFileBounded(path.join(dir, 'a.bin'), 2, 'a.bin')).toThrow(/a\.bin: 3 bytes is more than the 2/);
});
