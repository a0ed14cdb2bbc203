/**
 * The gallery's search box: every term must match the prompt, negative prompt or tags, the
 * model's name, or (a whole number) the seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { GalleryStore } from './store';
import { testGeneration } from './testing/generation';

let dir: string;
let store: GalleryStore;
const ids: Record<string, number> = {};

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-search-'));
  store = GalleryStore.open(dir);
  const add = (key: string, over: Parameters<typeof testGeneration>[0]) => (ids[key] = store.add(testGeneration(over)).id);
  add('fox', { settings: { prompt: 'a red fox in the snow', seed: 1234 } });
  add('owl', { settings: { prompt: 'an owl on a branch', negativePrompt: 'blurry', seed: 98765 }, modelId: '/models/sd15', modelName: 'Stable Diffusion 1.5' });
  add('lighthouse', { settings: { prompt: 'a lighthouse at dusk, 1984 style', negativePrompt: '', seed: 7 }, modelId: '/models/sd15', modelName: 'Stable Diffusion 1.5' });
  add('emoji', { settings: { prompt: 'smiling face', negativePrompt: '', seed: 1984 }, modelId: 'builtin:emoji', modelName: 'Noto Émoji 32' });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const found = (search: string, extra: Parameters<GalleryStore['list']>[0] = {}) => {
  const { items, total } = store.list({ search, ...extra });
  expect(total).toBe(items.length);
  return items.map((i) => i.id).sort((a, b) => a - b);
};
const idsOf = (...keys: string[]) => keys.map((k) => ids[k]).sort((a, b) => a - b);

describe('search', () => {
  test('a whole number finds the generation with that seed (and prompts that contain it)', () => {
    expect(found('1234')).toEqual(idsOf('fox'));
    expect(found('98765')).toEqual(idsOf('owl'));
    // 1984 is one seed and a word of another prompt: both match.
    expect(found('1984')).toEqual(idsOf('lighthouse', 'emoji'));
    expect(found('123')).toEqual([]); // a seed is matched whole, not as a prefix
    expect(found('99999999999999999999')).toEqual([]); // beyond any integer: text only, no error
  });

  test("the model's name matches by its words, case and accents aside", () => {
    expect(found('stable')).toEqual(idsOf('owl', 'lighthouse'));
    expect(found('Diffusion 1.5')).toEqual(idsOf('owl', 'lighthouse'));
    expect(found('emoji')).toEqual(idsOf('emoji'));
    expect(found('pixel-8x8')).toEqual(idsOf('fox'));
    expect(found('diff')).toEqual(idsOf('owl', 'lighthouse')); // words are matched by their beginning
    expect(found('iffusion')).toEqual([]);
  });

  test('every term must match somewhere: prompt, negative prompt, tags, model or seed', () => {
    expect(found('stable owl')).toEqual(idsOf('owl'));
    expect(found('stable 7')).toEqual(idsOf('lighthouse'));
    expect(found('stable fox')).toEqual([]);
    expect(found('blurry')).toEqual(idsOf('fox', 'owl')); // the fixture's negative prompt, and the owl's
    store.setTags(ids.emoji, ['keeper']);
    expect(found('keeper noto')).toEqual(idsOf('emoji'));
    expect(found('lighth')).toEqual(idsOf('lighthouse')); // the last term is a prefix
  });

  test('search combines with the filters and the trash', () => {
    expect(found('stable', { solver: 'stsp4', modelId: '/models/sd15' })).toEqual(idsOf('owl', 'lighthouse'));
    store.trash(ids.owl);
    expect(found('stable')).toEqual(idsOf('lighthouse'));
    expect(found('98765', { onlyDeleted: true })).toEqual(idsOf('owl'));
  });

  test('a model added after the first search is found too, whichever store added it', () => {
    expect(found('flux')).toEqual([]);
    const other = GalleryStore.open(dir);
    const id = other.add(testGeneration({ modelId: '/models/flux', modelName: 'FLUX schnell' })).id;
    other.close();
    expect(found('flux')).toEqual([id]);
    expect(found('schnell 42')).toEqual([id]);
  });
});
