/**
 * A request the engine cannot run as given (steps, timesteps, scales, classes, shapes):
 * the caller's input is at fault, so the CLI exits with code 2 and the studio shows the
 * message beside the control, instead of reporting an internal error.
 */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}
