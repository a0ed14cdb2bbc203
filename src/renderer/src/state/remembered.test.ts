import { describe, expect, it } from 'vitest';
import { baseSettings } from './settingsLogic';
import { FORM_KEY, MAX_PROMPT_HISTORY, PROMPTS_KEY, type KeyValueStorage, readForm, readPrompts, searchPrompts, withPrompt, writeForm, writePrompts } from './remembered';

function memory(initial: Record<string, string> = {}): KeyValueStorage & { data: Record<string, string> } {
  const data = { ...initial };
  return { data, getItem: (k) => data[k] ?? null, setItem: (k, v) => void (data[k] = v) };
}

describe('the remembered form', () => {
  it('round-trips model, settings, seed mode and batch count', () => {
    const storage = memory();
    const form = { modelId: 'builtin:noto', settings: { ...baseSettings(), prompt: 'red apple', steps: 17, seed: 4 }, seedLocked: true, batchCount: 4 };
    writeForm(storage, form);
    expect(readForm(storage)).toEqual(form);
  });

  it('drops a bad entry whole: not JSON, unknown fields, numbers out of range, wrong batch', () => {
    const good = { modelId: 'm', settings: baseSettings(), seedLocked: false, batchCount: 1 };
    expect(readForm(memory({ [FORM_KEY]: '{not json' }))).toBeNull();
    expect(readForm(memory({ [FORM_KEY]: JSON.stringify({ ...good, extra: 1 }) }))).toBeNull();
    expect(readForm(memory({ [FORM_KEY]: JSON.stringify({ ...good, settings: { ...good.settings, steps: -3 } }) }))).toBeNull();
    expect(readForm(memory({ [FORM_KEY]: JSON.stringify({ ...good, batchCount: 65 }) }))).toBeNull();
    expect(readForm(memory())).toBeNull();
    expect(readForm(null)).toBeNull();
  });

  it('survives storage that throws', () => {
    const broken: KeyValueStorage = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('full'); } };
    expect(() => writeForm(broken, { modelId: 'm', settings: baseSettings(), seedLocked: false, batchCount: 1 })).not.toThrow();
    expect(readForm(broken)).toBeNull();
  });
});

describe('prompt history', () => {
  it('keeps prompts newest first, once each, without blanks, at most MAX_PROMPT_HISTORY', () => {
    let h = withPrompt([], 'red apple');
    h = withPrompt(h, '  blue heart ');
    h = withPrompt(h, 'red apple');
    h = withPrompt(h, '   ');
    expect(h).toEqual(['red apple', 'blue heart']);
    for (let i = 0; i < 150; i++) h = withPrompt(h, `p${i}`);
    expect(h).toHaveLength(MAX_PROMPT_HISTORY);
    expect(h[0]).toBe('p149');
  });

  it('reads back what it wrote and ignores anything else', () => {
    const storage = memory();
    writePrompts(storage, ['a', 'b']);
    expect(readPrompts(storage)).toEqual(['a', 'b']);
    expect(readPrompts(memory({ [PROMPTS_KEY]: '[1, 2]' }))).toEqual([]);
    expect(readPrompts(memory({ [PROMPTS_KEY]: '"x"' }))).toEqual([]);
  });

  it('searches by every word, in any case', () => {
    const h = ['Red apple on blue', 'red heart', 'green apple'];
    expect(searchPrompts(h, 'apple RED')).toEqual(['Red apple on blue']);
    expect(searchPrompts(h, 'apple')).toEqual(['Red apple on blue', 'green apple']);
    expect(searchPrompts(h, '')).toEqual(h);
  });
});
