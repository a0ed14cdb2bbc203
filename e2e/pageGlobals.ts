/**
 * Types for code that runs inside the page (the callbacks of page.evaluate and
 * locator.evaluate). The tests themselves are Node code, checked without the DOM lib
 * (tsconfig.json), so a callback reads the few browser globals it uses from
 * `globalThis as unknown as PageGlobals`: at run time that is simply the page's window.
 * (A callback is serialised into the page, so it cannot call anything imported here; this
 * file holds types only.)
 */

/** Anything an event can be dispatched on. */
export interface PageEventTarget {
  dispatchEvent(event: unknown): boolean;
}

/** An <input>: its value and events. */
export interface PageInput extends PageEventTarget {
  value: string;
}

export interface PageGlobals {
  document: { querySelector(selector: string): PageEventTarget | null };
  DataTransfer: new () => { items: { add(file: unknown): unknown } };
  DragEvent: new (type: string, init: { dataTransfer: unknown; bubbles: boolean; cancelable: boolean }) => unknown;
  File: new (parts: Uint8Array[], name: string, options: { type: string }) => unknown;
  /** What the Electron preload exposes (absent in the served studio). */
  splitStudio?: object;
}
