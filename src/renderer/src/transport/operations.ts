import type { OperationName } from '../../../shared/contract';

/** The contract's operations, listed here so the renderer does not bundle zod for the names. */
export const OPERATION_NAMES = [
  'listModels', 'importModel', 'generate', 'cancel', 'listGallery', 'getGeneration', 'getImage', 'rerun', 'setFavourite', 'setTags',
  'trashGeneration', 'restoreGeneration', 'emptyTrash', 'showFile', 'importPng',
] as const satisfies readonly OperationName[];

// Fails to compile when the contract gains an operation this list lacks.
type Missing = Exclude<OperationName, (typeof OPERATION_NAMES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;
