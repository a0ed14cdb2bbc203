/**
 * What the studio remembers between launches (localStorage): the form (model, settings, seed
 * mode, batch count) and the recent prompts. What comes back from storage is checked like any
 * other input: another version of the studio, a hand edit or a full disk may have left anything
 * there, and a bad entry is dropped whole rather than half-applied.
 */
import { z } from 'zod';
import { MAX_BATCH_COUNT } from '../../../shared/batch';
import { type Settings, settingsSchema } from '../../../shared/contract';
import { SETTINGS_LIMITS } from '../../../shared/settingsFields';

export const FORM_KEY = 'split-studio.form.v1';
export const PROMPTS_KEY = 'split-studio.prompts.v1';
/** The most prompts kept in the history, newest first. */
export const MAX_PROMPT_HISTORY = 100;

/** localStorage's part the studio uses; absent, or throwing, where storage is disabled. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem'>;

export interface RememberedForm {
  modelId: string;
  settings: Settings;
  seedLocked: boolean;
  batchCount: number;
}

const formSchema = z
  .object({
    modelId: z.string().min(1).max(4096),
    settings: settingsSchema,
    seedLocked: z.boolean(),
    batchCount: z.number().int().min(1).max(MAX_BATCH_COUNT),
  })
  .strict();

export function defaultStorage(): KeyValueStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    // A page with storage disabled throws on the mere access.
    return null;
  }
}

function read(storage: KeyValueStorage | null, key: string): unknown {
  try {
    const text = storage?.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function write(storage: KeyValueStorage | null, key: string, value: unknown): void {
  try {
    storage?.setItem(key, JSON.stringify(value));
  } catch {
    // Full or disabled storage: the studio works on, it just forgets.
  }
}

/** The remembered form, or null when there is none or it does not parse as one. */
export function readForm(storage: KeyValueStorage | null): RememberedForm | null {
  const parsed = formSchema.safeParse(read(storage, FORM_KEY));
  return parsed.success ? (parsed.data as RememberedForm) : null;
}

export function writeForm(storage: KeyValueStorage | null, form: RememberedForm): void {
  write(storage, FORM_KEY, form);
}

/** The recent prompts, newest first; anything that is not a list of strings reads as none. */
export function readPrompts(storage: KeyValueStorage | null): string[] {
  const parsed = z.array(z.string().max(SETTINGS_LIMITS.prompt.maxLength)).safeParse(read(storage, PROMPTS_KEY));
  return parsed.success ? parsed.data.slice(0, MAX_PROMPT_HISTORY) : [];
}

/** The history with `prompt` moved (or added) to the front; blank prompts are not kept. */
export function withPrompt(history: readonly string[], prompt: string): string[] {
  const text = prompt.trim();
  if (!text) return [...history];
  return [text, ...history.filter((p) => p !== text)].slice(0, MAX_PROMPT_HISTORY);
}

export function writePrompts(storage: KeyValueStorage | null, history: readonly string[]): void {
  write(storage, PROMPTS_KEY, history);
}

/** The prompts containing every word of `query` (any case), in history order. */
export function searchPrompts(history: readonly string[], query: string): string[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return history.filter((p) => {
    const lower = p.toLowerCase();
    return words.every((w) => lower.includes(w));
  });
}
