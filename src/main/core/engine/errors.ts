import type { FieldName } from '../../../shared/settingsFields';

/**
 * What is wrong with the field: outside its limits ('range'), not something this model or
 * solver can do ('unsupported'), absent though the run needs it ('missing'), or not shaped
 * as the run needs (a picture or noise of the wrong size, timesteps out of order: 'format').
 */
export type SettingsProblem = 'range' | 'unsupported' | 'missing' | 'format';

/**
 * A request the engine cannot run as given (steps, timesteps, scales, classes, shapes):
 * the caller's input is at fault, so the CLI exits with code 2 and the studio shows the
 * message beside the control, instead of reporting an internal error. `field` names the
 * setting or input at fault, so that each caller can point at it in its own terms (the CLI
 * by its flag, the studio by its control); the message itself speaks of no flag or control.
 */
export class SettingsError extends Error {
  readonly field?: FieldName;
  readonly kind?: SettingsProblem;

  constructor(message: string, about: { field?: FieldName; kind?: SettingsProblem } = {}) {
    super(message);
    this.name = 'SettingsError';
    this.field = about.field;
    this.kind = about.kind;
  }
}
