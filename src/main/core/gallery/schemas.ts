/**
 * The shapes of what the gallery stores as JSON beside the settings (cost, warnings; the
 * fingerprint's schema is in fingerprint.ts), checked on the way in and again on the way out:
 * a row edited or damaged outside this store is reported, never passed on.
 */
import { z } from 'zod';
import type { CostReport } from '../../../shared/contract';
import { GalleryError } from './types';

export const costSchema: z.ZodType<CostReport> = z
  .object({
    nfe: z.number().int().min(0),
    networkRows: z.number().int().min(0),
    guidanceEvaluations: z.number().int().min(0),
    classifierCalls: z.number().int().min(0),
  })
  .strict();

export const warningsSchema = z.array(z.string());

/** The first three problems, "path: message; ...". */
function issues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'value'}: ${i.message}`)
    .join('; ');
}

/** A JSON column of row `id` read back through its schema; a plain Error names the row and the column. */
export function parseStored<T>(schema: z.ZodType<T>, json: string, what: string, id: number): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`generation ${id}: stored ${what} is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`generation ${id}: stored ${what} is invalid: ${issues(parsed.error)}`);
  return parsed.data;
}

/** A caller's value through its schema; a GalleryError ('invalid') says what is wrong. */
export function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GalleryError('invalid', `${what} ${issues(parsed.error)}`);
  return parsed.data;
}
