/**
 * The gallery's SQL (the schema itself is db.ts's migrations): the row shapes, the one INSERT
 * every writer uses with the row built from a generation, and the prepared statements of the
 * store and of its reconcile.
 */
import type { CostReport, GenerationSummary, Settings } from '../../../shared/contract';
import { solverInfo } from '../../../shared/solvers';
import type { Database } from './db';
import type { Fingerprint } from './fingerprint';

export interface GenerationRow {
  id: number;
  created_at: string;
  model_id: string;
  model_name: string;
  model_hash: string;
  task: string;
  solver: string;
  solver_order: number;
  steps: number;
  nfe: number;
  guidance: number;
  classifier_scale: number;
  seed: number;
  width: number;
  height: number;
  spacing: string;
  duration_ms: number;
  provider: string;
  prompt: string;
  negative_prompt: string;
  settings_json: string;
  cost_json: string;
  warnings_json: string;
  fingerprint_json: string;
  parent_id: number | null;
  favourite: number;
  deleted_at: string | null;
  image_file: string | null;
  thumbnail_file: string | null;
  missing_at: string | null;
}

export type SummaryRow = Pick<GenerationRow, 'id' | 'created_at' | 'model_id' | 'model_name' | 'prompt' | 'solver' | 'steps' | 'seed' | 'width' | 'height' | 'parent_id'>;
export type FileRow = Pick<GenerationRow, 'id' | 'image_file' | 'thumbnail_file' | 'missing_at'>;
export type InsertParams = Omit<GenerationRow, 'id' | 'favourite' | 'deleted_at' | 'missing_at'>;

const SUMMARY_COLUMNS = 'id, created_at, model_id, model_name, prompt, solver, steps, seed, width, height, parent_id';

export const INSERT_SQL = `
INSERT INTO generations (created_at, model_id, model_name, model_hash, task, solver, solver_order, steps, nfe,
  guidance, classifier_scale, seed, width, height, spacing, duration_ms, provider, prompt, negative_prompt,
  settings_json, cost_json, warnings_json, fingerprint_json, parent_id, image_file, thumbnail_file)
VALUES (@created_at, @model_id, @model_name, @model_hash, @task, @solver, @solver_order, @steps, @nfe,
  @guidance, @classifier_scale, @seed, @width, @height, @spacing, @duration_ms, @provider, @prompt, @negative_prompt,
  @settings_json, @cost_json, @warnings_json, @fingerprint_json, @parent_id, @image_file, @thumbnail_file)`;

export function toSummary(r: SummaryRow): GenerationSummary {
  return {
    id: r.id,
    createdAt: r.created_at,
    modelId: r.model_id,
    modelName: r.model_name,
    prompt: r.prompt,
    solver: r.solver,
    steps: r.steps,
    seed: r.seed,
    width: r.width,
    height: r.height,
    parentId: r.parent_id,
  };
}

/** Everything a new row records, in the store's terms (all of it already validated). */
export interface RowSource {
  createdAt: string;
  settings: Settings;
  modelId: string;
  modelName: string;
  modelHash: string;
  width: number;
  height: number;
  provider: string;
  cost: CostReport;
  durationMs: number;
  warnings: string[];
  fingerprint: Fingerprint;
  parentId: number | null;
  imageFile: string;
  thumbnailFile: string | null;
}

/** The INSERT's parameters: the settings' searchable and filterable fields in their own columns, all of them as JSON. */
export function generationRow(r: RowSource): InsertParams {
  const { settings } = r;
  return {
    created_at: r.createdAt,
    model_id: r.modelId,
    model_name: r.modelName,
    model_hash: r.modelHash,
    task: settings.task,
    solver: settings.solver,
    solver_order: solverInfo(settings.solver).order,
    steps: settings.steps,
    nfe: r.cost.nfe,
    guidance: settings.guidance,
    classifier_scale: settings.classifierScale,
    seed: settings.seed,
    width: r.width,
    height: r.height,
    spacing: typeof settings.spacing === 'string' ? settings.spacing : JSON.stringify(settings.spacing),
    duration_ms: r.durationMs,
    provider: r.provider,
    prompt: settings.prompt,
    negative_prompt: settings.negativePrompt,
    settings_json: JSON.stringify(settings),
    cost_json: JSON.stringify(r.cost),
    warnings_json: JSON.stringify(r.warnings),
    fingerprint_json: JSON.stringify(r.fingerprint),
    parent_id: r.parentId,
    image_file: r.imageFile,
    thumbnail_file: r.thumbnailFile,
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

export function prepareStatements(db: Database) {
  return {
    insert: db.prepare<InsertParams>(INSERT_SQL),
    exists: db.prepare<[number]>('SELECT 1 FROM generations WHERE id = ?').pluck(),
    get: db.prepare<[number]>('SELECT * FROM generations WHERE id = ?'),
    files: db.prepare<[number]>('SELECT id, image_file, thumbnail_file, missing_at FROM generations WHERE id = ?'),
    tags: db.prepare<[number]>('SELECT tag FROM tags WHERE generation_id = ? ORDER BY tag'),
    deleteTags: db.prepare<[number]>('DELETE FROM tags WHERE generation_id = ?'),
    insertTag: db.prepare<[number, string]>('INSERT INTO tags (generation_id, tag) VALUES (?, ?)'),
    setFavourite: db.prepare<[number, number]>('UPDATE generations SET favourite = ? WHERE id = ?'),
    trash: db.prepare<[string, number]>('UPDATE generations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
    restore: db.prepare<[number]>('UPDATE generations SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL'),
    trashed: db.prepare<[]>('SELECT id, image_file, thumbnail_file, missing_at FROM generations WHERE deleted_at IS NOT NULL ORDER BY id'),
    delete: db.prepare<[number]>('DELETE FROM generations WHERE id = ?'),
    children: db.prepare<[number]>(`SELECT ${SUMMARY_COLUMNS} FROM generations WHERE parent_id = ? AND deleted_at IS NULL ORDER BY id`),
    setThumbnail: db.prepare<[string, number]>('UPDATE generations SET thumbnail_file = ? WHERE id = ?'),
    ...reconcileStatements(db),
  };
}

/** A page of a list query and its total, for one WHERE clause (see search.ts). */
export function listStatements(db: Database, where: string) {
  return {
    // The page's ids first (from an index when the filters allow), then only those rows:
    // OFFSET then skips index entries instead of whole rows (a last page of 100k: ~130 ms -> ~5 ms).
    page: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM generations WHERE id IN (SELECT id FROM generations ${where} ORDER BY id DESC LIMIT @limit OFFSET @offset) ORDER BY id DESC`),
    count: db.prepare(`SELECT count(*) AS n FROM generations ${where}`),
  };
}

/**
 * reconcile()'s statements: the folder listings (valid names only) go into two temp tables,
 * and everything else is set arithmetic in SQL over idx_generations_files.
 */
function reconcileStatements(db: Database) {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS listed_images (name TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS listed_thumbnails (name TEXT PRIMARY KEY) WITHOUT ROWID;`);
  const clearImages = db.prepare<[]>('DELETE FROM temp.listed_images');
  const clearThumbnails = db.prepare<[]>('DELETE FROM temp.listed_thumbnails');
  return {
    clearListings: {
      run(): void {
        clearImages.run();
        clearThumbnails.run();
      },
    },
    listImages: db.prepare<[string]>('INSERT OR IGNORE INTO temp.listed_images (name) SELECT value FROM json_each(?)'),
    listThumbnails: db.prepare<[string]>('INSERT OR IGNORE INTO temp.listed_thumbnails (name) SELECT value FROM json_each(?)'),
    markMissing: db.prepare<[string]>(`
      UPDATE generations SET missing_at = ?
      WHERE missing_at IS NULL AND (image_file IS NULL OR image_file NOT IN (SELECT name FROM temp.listed_images))`),
    unmarkFound: db.prepare<[]>(`
      UPDATE generations SET missing_at = NULL
      WHERE missing_at IS NOT NULL AND image_file IN (SELECT name FROM temp.listed_images)`),
    missingIds: db.prepare<[]>('SELECT id FROM generations WHERE missing_at IS NOT NULL').pluck(),
    orphanImages: db.prepare<[]>(`
      SELECT name FROM temp.listed_images
      WHERE name NOT IN (SELECT image_file FROM generations WHERE image_file IS NOT NULL)`).pluck(),
    orphanThumbnails: db.prepare<[]>(`
      SELECT name FROM temp.listed_thumbnails
      WHERE name NOT IN (SELECT thumbnail_file FROM generations WHERE thumbnail_file IS NOT NULL)`).pluck(),
    noThumbnail: db.prepare<[]>(`
      SELECT id, image_file FROM generations
      WHERE missing_at IS NULL AND (thumbnail_file IS NULL OR thumbnail_file NOT IN (SELECT name FROM temp.listed_thumbnails))`),
  };
}
