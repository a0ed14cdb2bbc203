/**
 * The gallery's list query as SQL: the page bounds, the filters as a WHERE clause with named
 * parameters (values never enter the SQL text), and the search box's text.
 *
 * Every search term must match somewhere: the prompt, negative prompt or tags (the FTS5
 * index, as a MATCH expression that no user input can break), the model's name (through
 * ModelNames, below: the few distinct names are matched in JS and become a `model_id IN`
 * over its index), or, for a whole number, the seed. Terms that can only match text are ANDed
 * into one MATCH; the others become one OR each.
 */
import type { Database } from './db';
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
  const terms = searchTerms(search);
  if (terms.length === 0) return null;
  return terms.map((t, i) => phrase(t, i === terms.length - 1)).join(' ');
}

/** The search text's terms: whitespace-separated, those with a letter or digit. */
function searchTerms(search: string): string[] {
  return search.split(/\s+/).filter((t) => /[\p{L}\p{N}\p{Co}]/u.test(t));
}

function phrase(term: string, prefix: boolean): string {
  return `"${term.replace(/"/g, '""')}"${prefix ? '*' : ''}`;
}

/** Seeds are stored as integers; a term of digits only that fits one may be a seed. */
function seedOf(term: string): number | null {
  if (!/^\d{1,16}$/.test(term)) return null;
  const n = Number(term);
  return Number.isSafeInteger(n) ? n : null;
}

/** Models whose name a search term matches: whole model ids, or (id, name) pairs where an id had several names. */
export interface ModelMatch {
  ids: string[];
  pairs: [string, string][];
}

export interface ModelLookup {
  /** The models whose name matches `term`, or null when none does. */
  match(term: string): ModelMatch | null;
}

/** Lower case, without diacritics, words separated by one space: how names and terms are compared. */
function words(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{Co}]+/gu, ' ')
    .trim();
}

/**
 * The distinct (model_id, model_name) pairs of the gallery's rows, kept in memory for the
 * search box. No index can answer "name contains a word" and a scan of the wide rows takes
 * ~100 ms at 100k, but a gallery has a handful of models, and a row's model never changes
 * after its insert: so the rows are read once (step() by rowid, in the background after
 * open) and afterwards only rows with a higher id than any read (new ones, whichever process
 * added them). Pairs of deleted rows may linger; they only make a condition that finds nothing.
 */
export class ModelNames implements ModelLookup {
  readonly #names = new Map<string, Map<string, string>>();
  #upTo = 0;
  readonly #maxId;
  readonly #pairs;

  constructor(db: Database) {
    this.#maxId = db.prepare<[]>('SELECT coalesce(max(id), 0) FROM generations').pluck();
    this.#pairs = db.prepare<[number, number]>('SELECT DISTINCT model_id, model_name FROM generations WHERE id > ? AND id <= ?').raw();
  }

  /** Reads the models of up to `rows` more rows (1,000: about a ms); true once every row so far is read. */
  step(rows = 1000): boolean {
    const max = this.#maxId.get() as number;
    if (this.#upTo >= max) return true;
    const to = Math.min(max, this.#upTo + rows);
    for (const [id, name] of this.#pairs.all(this.#upTo, to) as [string, string][]) {
      let names = this.#names.get(id);
      if (!names) this.#names.set(id, (names = new Map()));
      if (!names.has(name)) names.set(name, ` ${words(name)}`);
    }
    this.#upTo = to;
    return to >= max;
  }

  /** step() until done, yielding between steps (the store runs it in slices). */
  *fill(): Generator<void, void, void> {
    while (!this.step()) yield;
  }

  /** A term matches a name when its words begin words of the name, in order ("pix", "pixel 32" in "Pixel-32 v2"). */
  match(term: string): ModelMatch | null {
    while (!this.step(50_000)); // catches up with rows added since (all rows, before the first fill)
    const needle = ` ${words(term)}`;
    if (needle === ' ') return null;
    const ids: string[] = [];
    const pairs: [string, string][] = [];
    for (const [id, names] of this.#names) {
      const hits = [...names].filter(([, normal]) => normal.includes(needle)).map(([name]) => name);
      if (hits.length === names.size) ids.push(id);
      else for (const name of hits) pairs.push([id, name]);
    }
    return ids.length || pairs.length ? { ids, pairs } : null;
  }
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

/** The search text's conditions (see the top of this file), added to `conditions` and `params`. */
function searchConditions(search: string, models: ModelLookup | undefined, conditions: string[], params: Record<string, string | number>): void {
  const terms = searchTerms(search);
  const textOnly: string[] = [];
  terms.forEach((term, i) => {
    const prefix = i === terms.length - 1;
    const seed = seedOf(term);
    const model = models?.match(term) ?? null;
    if (seed === null && model === null) {
      textOnly.push(phrase(term, prefix));
      return;
    }
    const alternatives = [`id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH @match${i})`];
    params[`match${i}`] = phrase(term, prefix);
    if (seed !== null) {
      alternatives.push(`seed = @seed${i}`);
      params[`seed${i}`] = seed;
    }
    if (model?.ids.length) {
      alternatives.push(`model_id IN (SELECT value FROM json_each(@models${i}))`);
      params[`models${i}`] = JSON.stringify(model.ids);
    }
    if (model?.pairs.length) {
      alternatives.push(`(model_id, model_name) IN (SELECT value ->> 0, value ->> 1 FROM json_each(@modelNames${i}))`);
      params[`modelNames${i}`] = JSON.stringify(model.pairs);
    }
    conditions.push(`(${alternatives.join(' OR ')})`);
  });
  if (textOnly.length > 0) {
    conditions.push('id IN (SELECT rowid FROM generations_fts WHERE generations_fts MATCH @match)');
    params.match = textOnly.join(' ');
  }
}

/**
 * The filters of `query` as `WHERE ...` (empty when none) and its named parameters. Without
 * `models`, search terms are not matched against model names.
 */
export function listFilter(query: ListQuery, models?: ModelLookup): { where: string; params: Record<string, string | number> } {
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
  if (query.search !== undefined) searchConditions(query.search, models, conditions, params);
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
