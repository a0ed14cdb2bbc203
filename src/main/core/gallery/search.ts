/**
 * The gallery's list query as SQL: the page bounds, the filters as a WHERE clause with named
 * parameters (values never enter the SQL text), and the full-text search as an FTS5 MATCH
 * expression that no user input can break.
 */
import { GalleryError, type ListQuery } from './types';

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 60;

/**
 * An FTS5 MATCH expression for user text that no input can break: whitespace-separated terms,
 * each a quoted phrase (so operators, column filters, `*`, `^`, parentheses and quotes are
 * only text), ANDed, the last one a prefix. Terms without a letter or digit would be empty
 * phrases and are dropped; null when nothing is left (no text filter).
 */
export function ftsQuery(search: string): string | null {
  const terms = search.split(/\s+/).filter((t) => /[\p{L}\p{N}\p{Co}]/u.test(t));
  if (terms.length === 0) return null;
  return terms.map((t, i) => `"${t.replace(/"/g, '""')}"${i === terms.length - 1 ? '*' : ''}`).join(' ');
}

function isoDate(value: string | Date, what: string): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new GalleryError('invalid', `${what} is not a date: ${String(value)}`);
  return d.toISOString();
}

/** Offset and limit, checked (GalleryError 'invalid' when out of range), with their defaults. */
export function pageOf(query: ListQuery): { offset: number; limit: number } {
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(offset) || offset < 0) throw new GalleryError('invalid', `offset must be an integer >= 0, got ${offset}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new GalleryError('invalid', `limit must be an integer from 1 to ${MAX_LIMIT}, got ${limit}`);
  return { offset, limit };
}

/** The filters of `query` as `WHERE ...` (empty when none) and its named parameters. */
export function listFilter(query: ListQuery): { where: string; params: Record<string, string | number> } {
  const conditions: string[] = [];
  const params: Record<string, string | number> = {};
  if (query.onlyDeleted) conditions.push('deleted_at IS NOT NULL');
  else if (!query.includeDeleted) conditions.push('deleted_at IS NULL');
  for (const [key, column] of [['modelId', 'model_id'], ['solver', 'solver'], ['task', 'task']] as const) {
    const value = query[key];
    if (value === undefined) continue;
    conditions.push(`${column} = @${key}`);
    params[key] = value;
  }
  if (query.favourite !== undefined) {
    conditions.push('favourite = @favourite');
    params.favourite = query.favourite ? 1 : 0;
  }
  if (query.from !== undefined) {
    conditions.push('created_at >= @from');
    params.from = isoDate(query.from, 'from');
  }
  if (query.to !== undefined) {
    conditions.push('created_at < @to');
    params.to = isoDate(query.to, 'to');
  }
  const match = query.search === undefined ? null : ftsQuery(query.search);
  if (match !== null) {
    conditions.push('id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH @match)');
    params.match = match;
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
