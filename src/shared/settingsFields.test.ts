/** The settings table against the contract's schema: every key has a row, and the schema holds each setting to its row's limits. */
import { describe, expect, test } from 'vitest';
import { callErrorText, readCallErrorText } from './callErrorText';
import { settingsSchema } from './contract';
import { baseSettings } from './modelSettings';
import { type NumberLimits, RUN_INPUT_FLAGS, SETTINGS_FIELDS, SETTINGS_KEYS, SETTINGS_LIMITS, flagOf, isFieldName } from './settingsFields';

const accepts = (key: string, value: unknown) => settingsSchema.safeParse({ ...baseSettings(), [key]: value }).success;

describe('SETTINGS_FIELDS', () => {
  test('has a row for every key of the settings schema, and no other', () => {
    expect([...SETTINGS_KEYS].sort()).toEqual(Object.keys(settingsSchema.shape).sort());
    for (const key of Object.keys(SETTINGS_LIMITS)) expect(SETTINGS_KEYS).toContain(key);
  });

  test('every row has its own flag and label', () => {
    const flags = SETTINGS_KEYS.map((k) => SETTINGS_FIELDS[k].flag).concat(Object.values(RUN_INPUT_FLAGS));
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(SETTINGS_KEYS.map((k) => SETTINGS_FIELDS[k].label)).size).toBe(SETTINGS_KEYS.length);
  });

  test('the defaults are settings the contract accepts', () => {
    expect(settingsSchema.parse(baseSettings())).toEqual(baseSettings());
  });

  /** Settings that are one number (spacing's limits are each timestep's: below). */
  const numberLimits = Object.entries(SETTINGS_LIMITS).filter(([key, limits]) => key !== 'spacing' && !('maxLength' in limits)) as [string, NumberLimits][];

  test.each(numberLimits)('the schema holds %s to its limits', (key, limits) => {
    if (limits.max !== undefined) {
      expect(accepts(key, limits.max)).toBe(true);
      expect(accepts(key, limits.max + 1)).toBe(false);
    }
    if (limits.min !== undefined) {
      expect(accepts(key, limits.min)).toBe(true);
      expect(accepts(key, limits.min - 1)).toBe(false);
    }
    if (limits.above !== undefined) expect(accepts(key, limits.above)).toBe(false);
    if (limits.integer) expect(accepts(key, (limits.min ?? 0) + 0.5)).toBe(false);
  });

  test('the schema holds prompts to their length and explicit timesteps to theirs', () => {
    const { maxLength } = SETTINGS_LIMITS.prompt;
    expect(accepts('prompt', 'a'.repeat(maxLength))).toBe(true);
    expect(accepts('negativePrompt', 'a'.repeat(maxLength + 1))).toBe(false);
    expect(accepts('spacing', [SETTINGS_LIMITS.spacing.max, 0])).toBe(true);
    expect(accepts('spacing', [SETTINGS_LIMITS.spacing.max + 1])).toBe(false);
    expect(accepts('spacing', Array.from({ length: SETTINGS_LIMITS.steps.max + 1 }, (_, i) => 2000 - i))).toBe(false);
  });
});

describe('field names', () => {
  test('a setting or an input of the run is a field, with its flag; nothing else is', () => {
    expect(flagOf('negativePrompt')).toBe('--negative');
    expect(flagOf('initImage')).toBe('--init-image');
    for (const name of ['steps', 'mask', 'modelId']) expect(isFieldName(name)).toBe(true);
    for (const name of ['toString', '__proto__', 'run', 'settings.steps', 7, undefined]) expect(isFieldName(name)).toBe(false);
  });

  test('a call error survives being written into a message and read back', () => {
    const named = { kind: 'invalid', field: 'classLabel', message: '[x] class 9: out of range\nsecond line' } as const;
    expect(readCallErrorText(callErrorText(named))).toEqual(named);
    expect(readCallErrorText(callErrorText({ kind: 'refused', message: 'busy' }))).toEqual({ kind: 'refused', message: 'busy' });
    expect(readCallErrorText('no prefix')).toBeNull();
  });
});
