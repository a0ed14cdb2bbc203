/** A failed studio call (contract.ts's CallError) as an Error the operations throw; `kind` says whether the caller's input was at fault. */
import type { CallError } from '../../shared/contract';
import type { FieldName } from '../../shared/settingsFields';

export class StudioCallError extends Error implements CallError {
  constructor(readonly kind: CallError['kind'], message: string, readonly field?: FieldName) {
    super(message);
  }
}
