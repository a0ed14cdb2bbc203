/**
 * The names of the studio's operations and the Electron IPC channels that carry them, with no
 * imports at all: the sandboxed preload bundles this file (a sandboxed preload may require only
 * `electron`, `events`, `timers` and `url`, so zod and the schemas in contract.ts stay out of
 * it), and the renderer lists the operations without bundling zod. contract.ts checks that its
 * schemas cover exactly these names.
 */
export const OPERATION_NAMES = [
  'listModels', 'importModel', 'removeModel', 'generate', 'cancel', 'listGallery', 'getGeneration', 'getImage', 'getInput', 'rerun', 'setFavourite', 'setTags',
  'trashGeneration', 'restoreGeneration', 'emptyTrash', 'showFile', 'importPng', 'startSweep', 'listSweeps', 'getSweep',
] as const;

export type OperationName = (typeof OPERATION_NAMES)[number];

/** The IPC channel of one operation (ipcRenderer.invoke → ipcMain.handle). */
export const channelFor = (op: string): string => `studio:${op}`;

/** How a call can fail: the caller's input was at fault ('invalid'), it was refused now ('refused'), or something broke. */
export const CALL_ERROR_KINDS = ['invalid', 'refused', 'internal'] as const;
export type CallErrorKind = (typeof CALL_ERROR_KINDS)[number];

/** The one channel main sends the studio's events on. */
export const EVENT_CHANNEL = 'studio:event';
