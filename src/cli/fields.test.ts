/** The CLI names settings by the shared table's flags: every flag the table gives is one `generate` takes. */
import { describe, expect, test } from 'vitest';
import { baseSettings } from '../shared/modelSettings';
import { RUN_INPUT_FLAGS, SETTINGS_FIELDS, SETTINGS_KEYS } from '../shared/settingsFields';
import { SettingsError } from '../main/core/engine/errors';
import { UsageError } from './args';
import { GENERATE } from './main';
import { checkSettings, refusalLine } from './run';

describe('flags of the settings table', () => {
  test.each([...SETTINGS_KEYS.map((k) => SETTINGS_FIELDS[k].flag), ...Object.values(RUN_INPUT_FLAGS)])('generate takes %s with a value', (flag) => {
    expect(GENERATE.values).toContain(flag.slice(2));
  });

  test('an engine refusal about a field is led by its flag; one about nothing in particular is left as it is', () => {
    expect(refusalLine(new SettingsError('timesteps must be strictly descending: 0 is followed by 500', { field: 'spacing', kind: 'format' }))).toBe(
      '--timesteps: timesteps must be strictly descending: 0 is followed by 500',
    );
    expect(refusalLine(new SettingsError('the picture is 4x4, but the image is 8x8', { field: 'mask' }))).toBe('--mask: the picture is 4x4, but the image is 8x8');
    expect(refusalLine(new SettingsError('steps: at least 3 (got 2)'))).toBe('steps: at least 3 (got 2)');
  });

  test('settings the contract refuses name the flag that set them', () => {
    expect(() => checkSettings({ ...baseSettings(), negativePrompt: 'x'.repeat(2001) })).toThrow(new UsageError('--negative must be at most 2000 characters long'));
    expect(() => checkSettings({ ...baseSettings(), spacing: [5, 100_001] })).toThrow(/^--timesteps /);
  });
});
