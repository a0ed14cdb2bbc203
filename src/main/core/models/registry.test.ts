/**
 * The model registry's list of added models (models.json in the data folder): adding, removing,
 * what survives a restart (a new registry on the same folder), and the models it will not
 * remove. The folders are copies of the shipped exact reference models, so they are real model
 * folders without being built in.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, test } from 'vitest';
import { builtinModelDirs } from './catalog';
import { readModelFolder } from './modelFolder';
import { EXACT_MODEL_CLASS, ModelRegistry, ModelRemoveError, isForTesting } from './registry';

const root = path.resolve(__dirname, '../../../..');
const exact8 = path.join(root, 'resources/exact/gmm-3x8x8');
const emoji = path.join(root, 'resources/models/noto-emoji-32');

let data: string;
let added: string;

beforeEach(() => {
  data = mkdtempSync(path.join(os.tmpdir(), 'split-registry-'));
  added = path.join(mkdtempSync(path.join(os.tmpdir(), 'split-added-')), 'my-mixture');
  cpSync(exact8, added, { recursive: true });
});

const ids = (registry: ModelRegistry) => registry.folders().map((f) => f.folder.dir);
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelRemoveError);
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('removing an added model', () => {
  test('it leaves the list, also for a registry opened later on the same data folder; its folder stays', () => {
    const registry = new ModelRegistry(data);
    registry.import(added);
    expect(ids(registry)).toContain(added);
    expect(new ModelRegistry(data).imported().map((e) => e.dir)).toEqual([added]);

    expect(registry.remove(added)).toEqual({ dir: added, name: readModelFolder(added).name });
    expect(ids(registry)).not.toContain(added);
    const restarted = new ModelRegistry(data);
    expect(restarted.imported()).toEqual([]);
    expect(ids(restarted)).toEqual(builtinModelDirs());
    expect(JSON.parse(readFileSync(path.join(data, 'models.json'), 'utf8'))).toEqual({ imported: [] });
    // Only the list changed: the folder is still a model folder that can be added again.
    expect(readModelFolder(added).dir).toBe(added);
    registry.import(added);
    expect(new ModelRegistry(data).imported().map((e) => e.dir)).toEqual([added]);
  });

  test('the other added models stay, in their order', () => {
    const second = path.join(path.dirname(added), 'second');
    cpSync(exact8, second, { recursive: true });
    const registry = new ModelRegistry(data);
    registry.import(added);
    registry.import(second);
    registry.remove(added);
    expect(new ModelRegistry(data).imported().map((e) => e.dir)).toEqual([second]);
  });

  test('an added folder that cannot be read now (moved, unplugged) is listed with its reason and can still be removed', () => {
    const registry = new ModelRegistry(data);
    registry.import(added);
    rmSync(added, { recursive: true });
    const [entry] = registry.imported();
    expect(entry.dir).toBe(added);
    expect(entry.error).toMatch(/does not exist/);
    expect(ids(registry)).not.toContain(added);
    expect(registry.remove(added)).toEqual({ dir: added, name: 'my-mixture' });
    expect(new ModelRegistry(data).imported()).toEqual([]);
  });

  test('built-in models are refused by name, the exact reference models as such; nothing is written', () => {
    const registry = new ModelRegistry(data);
    registry.import(added);
    const before = readFileSync(path.join(data, 'models.json'), 'utf8');
    expect(refusal(() => registry.remove(emoji))).toBe(`${readModelFolder(emoji).name} is built into the studio and cannot be removed; only added models can be`);
    expect(refusal(() => registry.remove(exact8))).toBe(`${readModelFolder(exact8).name} is an exact reference model shipped with the studio for testing solvers; it cannot be removed`);
    expect(refusal(() => registry.remove('/no/such/model'))).toBe('/no/such/model is not an added model (those are the folders added with Add in the studio or split-studio models add)');
    expect(readFileSync(path.join(data, 'models.json'), 'utf8')).toBe(before);
  });
});

describe('adding', () => {
  test('adding a built-in folder again lists it once, as built-in', () => {
    const registry = new ModelRegistry(data);
    registry.import(exact8);
    expect(registry.imported()).toEqual([]);
    expect(ids(registry).filter((d) => d === exact8)).toHaveLength(1);
    expect(registry.isBuiltin(exact8)).toBe(true);
    expect(registry.isBuiltin(added)).toBe(false);
  });
});

test('the exact reference models, and copies of them, are the ones for testing solvers', () => {
  const testing = builtinModelDirs().filter((d) => isForTesting(readModelFolder(d)));
  expect(testing.map((d) => path.basename(path.dirname(d)))).toEqual(testing.map(() => 'exact'));
  expect(testing.length).toBeGreaterThan(0);
  expect(isForTesting(readModelFolder(emoji))).toBe(false);
  expect(readModelFolder(added).className).toBe(EXACT_MODEL_CLASS);
  expect(isForTesting(readModelFolder(added))).toBe(true);
});
