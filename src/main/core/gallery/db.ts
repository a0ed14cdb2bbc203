/**
 * The gallery database: opening it with the settings a desktop app needs, and its schema as an
 * ordered list of migrations keyed by `PRAGMA user_version`.
 *
 * Step i of MIGRATIONS takes a database from user_version i to i + 1, inside one IMMEDIATE
 * transaction that also writes the new user_version: a step applies completely or not at all,
 * and two processes opening the same file at once cannot both apply it (the second waits for
 * the write lock, then sees the new version and skips the step). A database written by a newer
 * build (user_version above what this code knows) is refused before anything is changed.
 *
 * Only src/main/core/gallery/store.ts opens the database for writing.
 */
import BetterSqlite3 from 'better-sqlite3';

export type Database = BetterSqlite3.Database;

/** How long a statement waits for another connection's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Schema v1. Notes on what goes beyond the plain column list:
 * - `id ... AUTOINCREMENT`: ids are never reused, even after the newest row is deleted by
 *   emptyTrash, so a stale id held by the renderer or a parent_id can never name another
 *   image, and id order is insertion order (the gallery's "newest first").
 * - `missing_at`: set by reconcile when a row's image file is gone (the row is kept, never
 *   silently dropped), cleared if the file comes back.
 * - Filter indexes carry `deleted_at` after the filter column (and model_id also `solver`, the
 *   pair the gallery filters by together): the live gallery is `deleted_at IS NULL`, so a
 *   filtered page and its count are answered from the index alone, already in id order,
 *   without reading the (wide) rows. Measured at 100k rows: a filtered count went from ~35 ms
 *   (a row lookup per index entry) to ~1 ms.
 * - `idx_generations_parent`: children() looks rows up by parent_id, and ON DELETE SET NULL
 *   makes SQLite search children for every deleted row (a full scan per row without it).
 * - `idx_generations_files` covers what reconcile() reads on every open, so it never scans
 *   the (wide) table, and leads with missing_at so that the few missing rows are found
 *   without reading the others.
 * - The full-text index is an FTS5 *contentless-delete* table (SQLite >= 3.43; better-sqlite3
 *   12 ships 3.51): it stores only the index, not a second copy of the prompts, yet supports
 *   DELETE and INSERT OR REPLACE by rowid, so triggers keep it in sync without having to know
 *   the old text (which an external-content table needs for its 'delete' command, and which a
 *   tags change cannot supply). Its rowid is the generation id.
 */
const SCHEMA_V1 = `
CREATE TABLE generations (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at       TEXT    NOT NULL,
  model_id         TEXT    NOT NULL,
  model_name       TEXT    NOT NULL,
  model_hash       TEXT    NOT NULL,
  task             TEXT    NOT NULL,
  solver           TEXT    NOT NULL,
  solver_order     INTEGER NOT NULL,
  steps            INTEGER NOT NULL,
  nfe              INTEGER NOT NULL,
  guidance         REAL    NOT NULL,
  classifier_scale REAL    NOT NULL,
  seed             INTEGER NOT NULL,
  width            INTEGER NOT NULL,
  height           INTEGER NOT NULL,
  spacing          TEXT    NOT NULL,
  duration_ms      REAL    NOT NULL,
  provider         TEXT    NOT NULL,
  prompt           TEXT    NOT NULL DEFAULT '',
  negative_prompt  TEXT    NOT NULL DEFAULT '',
  settings_json    TEXT    NOT NULL CHECK (json_valid(settings_json)),
  cost_json        TEXT    NOT NULL CHECK (json_valid(cost_json)),
  warnings_json    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(warnings_json)),
  fingerprint_json TEXT    NOT NULL CHECK (json_valid(fingerprint_json)),
  parent_id        INTEGER REFERENCES generations(id) ON DELETE SET NULL,
  favourite        INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
  deleted_at       TEXT,
  image_file       TEXT,
  thumbnail_file   TEXT,
  missing_at       TEXT
);
CREATE INDEX idx_generations_model_id   ON generations(model_id, solver, deleted_at);
CREATE INDEX idx_generations_solver     ON generations(solver, deleted_at);
CREATE INDEX idx_generations_task       ON generations(task, deleted_at);
CREATE INDEX idx_generations_favourite  ON generations(favourite, deleted_at);
CREATE INDEX idx_generations_created_at ON generations(created_at);
CREATE INDEX idx_generations_deleted_at ON generations(deleted_at);
CREATE INDEX idx_generations_parent     ON generations(parent_id);
CREATE INDEX idx_generations_files      ON generations(missing_at, image_file, thumbnail_file);

CREATE TABLE tags (
  generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  tag           TEXT    NOT NULL CHECK (length(tag) > 0),
  PRIMARY KEY (generation_id, tag)
) WITHOUT ROWID;
CREATE INDEX idx_tags_tag ON tags(tag);

CREATE VIRTUAL TABLE generations_fts USING fts5(
  prompt, negative_prompt, tags,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- A new generation has no tags yet (they reference it), and AUTOINCREMENT ids are never
-- reused, so a plain INSERT suffices (a fifth cheaper than re-reading tags, measured).
CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
  INSERT INTO generations_fts(rowid, prompt, negative_prompt, tags)
  VALUES (NEW.id, NEW.prompt, NEW.negative_prompt, '');
END;
-- Every other change re-indexes the row from the current data, all three columns.
CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, negative_prompt ON generations BEGIN
  INSERT OR REPLACE INTO generations_fts(rowid, prompt, negative_prompt, tags)
  VALUES (NEW.id, NEW.prompt, NEW.negative_prompt,
          (SELECT coalesce(group_concat(tag, ' '), '') FROM tags WHERE generation_id = NEW.id));
END;
CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
  DELETE FROM generations_fts WHERE rowid = OLD.id;
END;
-- Tag changes re-index the generation; when the generation itself is being deleted (the
-- cascade), the SELECT finds no row and nothing is re-inserted.
CREATE TRIGGER tags_fts_insert AFTER INSERT ON tags BEGIN
  INSERT OR REPLACE INTO generations_fts(rowid, prompt, negative_prompt, tags)
  SELECT g.id, g.prompt, g.negative_prompt,
         (SELECT coalesce(group_concat(tag, ' '), '') FROM tags WHERE generation_id = g.id)
  FROM generations g WHERE g.id = NEW.generation_id;
END;
CREATE TRIGGER tags_fts_delete AFTER DELETE ON tags BEGIN
  INSERT OR REPLACE INTO generations_fts(rowid, prompt, negative_prompt, tags)
  SELECT g.id, g.prompt, g.negative_prompt,
         (SELECT coalesce(group_concat(tag, ' '), '') FROM tags WHERE generation_id = g.id)
  FROM generations g WHERE g.id = OLD.generation_id;
END;
`;

/**
 * Schema v2: the inputs each generation was made from, kept so that it can be re-run
 * (inputs.ts). `inputs` has one row per stored file, content-addressed (the same picture used
 * by many generations is one file); `generation_inputs` says which generation uses which, at
 * most one of each kind. Deleting a generation (emptyTrash) cascades to its links; an input is
 * deleted, file first, only once no generation (trashed or not) links to it, and the foreign
 * key refuses to delete one that still has a link.
 */
const SCHEMA_V2 = `
CREATE TABLE inputs (
  hash   TEXT    PRIMARY KEY CHECK (length(hash) = 64),
  file   TEXT    NOT NULL UNIQUE,
  bytes  INTEGER NOT NULL CHECK (bytes > 0),
  width  INTEGER,
  height INTEGER
) WITHOUT ROWID;
CREATE TABLE generation_inputs (
  generation_id INTEGER NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
  kind          TEXT    NOT NULL CHECK (kind IN ('initImage', 'mask', 'initNoise')),
  hash          TEXT    NOT NULL REFERENCES inputs(hash),
  PRIMARY KEY (generation_id, kind)
) WITHOUT ROWID;
CREATE INDEX idx_generation_inputs_hash ON generation_inputs(hash);
`;

/**
 * Schema v3: search matches a whole-number term against the seed (search.ts). Without an index
 * that is a scan of the wide table: 362 ms at 100,000 rows, 1 ms with this index (bench:gallery).
 */
const SCHEMA_V3 = `
CREATE INDEX idx_generations_seed ON generations(seed, deleted_at);
`;

/** Step i takes user_version i to i + 1. Append new steps; never edit a released one. */
export const MIGRATIONS: readonly string[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database was written by a newer build of the studio. */
export class DatabaseVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `gallery database ${file} has schema version ${found}, but this build of Split Studio knows versions up to ${supported}; ` +
        'it was written by a newer version. Update Split Studio, or point it at another data folder. The file was not changed.',
    );
    this.name = 'DatabaseVersionError';
  }
}

/**
 * The database cannot be trusted: it is not a database, is damaged, or is empty (or missing)
 * while the images it described are still there. Nothing is changed when this is thrown: the
 * file is neither replaced nor repaired, and no image is moved. The way out is
 * `split-studio gallery recover` (GalleryStore.recover), which moves the file aside and
 * rebuilds the rows from the images' own metadata.
 */
export class DatabaseDamagedError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(
      `gallery database ${file} ${problem}. Nothing was changed and no image was moved. ` +
        'Run `split-studio gallery recover` to keep the file aside and rebuild the gallery from the images\' own metadata.',
    );
    this.name = 'DatabaseDamagedError';
  }
}

/** SQLite's codes for a file that is not a database or whose pages are damaged. */
export function isDamage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT_'));
}

export interface OpenDatabaseOptions {
  /**
   * Called when the database has no schema yet (new, or emptied outside the app), before
   * anything is written to it; throwing refuses to create the schema. GalleryStore refuses
   * when images are present: their rows are lost, and an empty gallery would hide that.
   */
  beforeCreate?: () => void;
}

function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the steps above the database's user_version, each in its own IMMEDIATE transaction
 * together with the version bump. Returns the version reached. Exported with a `steps`
 * parameter so that tests can run the runner on steps of their own.
 */
export function migrate(db: Database, file: string, steps: readonly string[] = MIGRATIONS): number {
  const start = userVersion(db);
  if (start > steps.length) throw new DatabaseVersionError(file, start, steps.length);
  for (let target = start + 1; target <= steps.length; target++) {
    db.transaction(() => {
      // Re-read under the write lock: another process may have migrated meanwhile.
      const current = userVersion(db);
      if (current >= target) return;
      db.exec(steps[target - 1]);
      db.pragma(`user_version = ${target}`);
    }).immediate();
  }
  return userVersion(db);
}

/**
 * Opens (creating if needed) the gallery database and brings its schema up to date. Throws
 * DatabaseVersionError for a database from a newer build, DatabaseDamagedError for a file that
 * is not a SQLite database or is damaged, and whatever `beforeCreate` throws.
 */
/** A connection to a SQLite file of the data folder (the gallery's, the lab's), with the studio's addon build. */
export function connectSqlite(file: string): Database {
  // Under Electron, `npm start` supplies a build of the addon for Electron's ABI (tools/start.mjs).
  const nativeBinding = process.env.SPLIT_STUDIO_SQLITE_BINDING || undefined;
  return new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS, nativeBinding });
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Database {
  let db: Database;
  try {
    db = connectSqlite(file);
  } catch (error) {
    throw new Error(`cannot open gallery database ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    let version: number;
    try {
      version = userVersion(db); // the first read: fails here for a file that is not a database
    } catch (error) {
      if (isDamage(error)) throw new DatabaseDamagedError(file, `cannot be opened: ${(error as Error).message}`);
      throw new Error(`cannot open gallery database ${file}: ${(error as Error).message}`, { cause: error });
    }
    if (version === 0) options.beforeCreate?.();
    // Refuse before anything is written (switching to WAL would already change the file).
    if (version > SCHEMA_VERSION) throw new DatabaseVersionError(file, version, SCHEMA_VERSION);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    // Cheap statistics refresh the SQLite docs recommend for long-lived connections.
    db.pragma('optimize = 0x10002');
    return db;
  } catch (error) {
    db.close();
    // Damage past the header shows up when the schema is first read (migrate, optimize).
    if (isDamage(error)) throw new DatabaseDamagedError(file, `is damaged: ${(error as Error).message}`);
    throw error;
  }
}
