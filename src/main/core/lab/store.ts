/**
 * Saved sweeps: every sweep's document (report.ts) in `lab.sqlite`, next to the gallery's
 * database in the data folder, so that a sweep can be listed and opened again (its table, CSV
 * or JSON) without running it twice. A separate file from the gallery: sweeps are measurements,
 * not pictures, and the gallery's store stays the only writer of gallery.sqlite.
 */
import path from 'node:path';
import { z } from 'zod';
import { type Database, connectSqlite, migrate } from '../gallery/db';
import type { SweepDocument, SweepSummary } from '../../../shared/lab';
import type { Reference } from './reference';

export const LAB_DATABASE_FILE = 'lab.sqlite';

/** Step i takes user_version i to i + 1 (gallery/db.ts's runner). Append; never edit a released one. */
const LAB_MIGRATIONS: readonly string[] = [
  `
CREATE TABLE sweeps (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at    TEXT    NOT NULL,
  model_name    TEXT    NOT NULL,
  runs          INTEGER NOT NULL,
  planned_runs  INTEGER NOT NULL,
  diverged      INTEGER NOT NULL,
  complete      INTEGER NOT NULL CHECK (complete IN (0, 1)),
  document_json TEXT    NOT NULL CHECK (json_valid(document_json))
);
`,
  // Richardson references of network models, reused by later sweeps of the same guided ODE
  // (referenceKey: model files, engine version, settings, seed, N): each costs 3N network calls.
  `
CREATE TABLE stored_references (
  key        TEXT    PRIMARY KEY,
  created_at TEXT    NOT NULL,
  method     TEXT    NOT NULL,
  steps      INTEGER NOT NULL,
  accuracy   REAL    NOT NULL,
  wall_ms    REAL    NOT NULL,
  nfe        INTEGER NOT NULL,
  x          BLOB    NOT NULL,
  picture    BLOB    NOT NULL
);
`,
];

export type { SweepSummary };

interface SummaryRow {
  id: number;
  created_at: string;
  model_name: string;
  runs: number;
  planned_runs: number;
  diverged: number;
  complete: number;
}

const toSummary = (r: SummaryRow): SweepSummary => ({
  id: r.id, createdAt: r.created_at, modelName: r.model_name, runs: r.runs, plannedRuns: r.planned_runs, diverged: r.diverged, complete: r.complete === 1,
});

/** What a stored document must have to be read back (the file may have been edited or damaged). */
const storedDocument = z.object({
  model: z.object({ name: z.string(), dir: z.string(), kind: z.enum(['exact', 'network']) }),
  spec: z.object({}).passthrough(),
  divergenceRms: z.number(),
  references: z.array(z.object({}).passthrough()),
  runs: z.array(z.object({ solver: z.string(), nfe: z.number() }).passthrough()),
  complete: z.boolean(),
  plannedRuns: z.number(),
});

export class SweepStore {
  private constructor(
    readonly file: string,
    private readonly db: Database,
  ) {}

  static open(dataDir: string): SweepStore {
    const file = path.join(dataDir, LAB_DATABASE_FILE);
    const db = connectSqlite(file);
    try {
      db.pragma('journal_mode = WAL');
      migrate(db, file, LAB_MIGRATIONS);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SweepStore(file, db);
  }

  /** Saves a sweep (complete or stopped); its id. Non-finite numbers are stored as null, as in the JSON file. */
  save(doc: SweepDocument, now = new Date()): number {
    const json = JSON.stringify(doc, (_key, value) => (typeof value === 'number' && !Number.isFinite(value) ? null : value));
    const info = this.db
      .prepare('INSERT INTO sweeps (created_at, model_name, runs, planned_runs, diverged, complete, document_json) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(now.toISOString(), doc.model.name, doc.runs.length, doc.plannedRuns, doc.runs.filter((r) => r.diverged).length, doc.complete ? 1 : 0, json);
    return Number(info.lastInsertRowid);
  }

  /** Newest first. */
  list(): SweepSummary[] {
    const rows = this.db.prepare('SELECT id, created_at, model_name, runs, planned_runs, diverged, complete FROM sweeps ORDER BY id DESC').all() as SummaryRow[];
    return rows.map(toSummary);
  }

  /** One sweep's line of the list, or null when there is no sweep `id`. */
  summary(id: number): SweepSummary | null {
    const row = this.db.prepare('SELECT id, created_at, model_name, runs, planned_runs, diverged, complete FROM sweeps WHERE id = ?').get(id) as SummaryRow | undefined;
    return row ? toSummary(row) : null;
  }

  /** The saved document, or null when there is no sweep `id`; throws naming the sweep when its document does not read back. */
  get(id: number): SweepDocument | null {
    const row = this.db.prepare('SELECT document_json FROM sweeps WHERE id = ?').get(id) as { document_json: string } | undefined;
    if (!row) return null;
    const parsed = storedDocument.safeParse(JSON.parse(row.document_json));
    if (!parsed.success) throw new Error(`sweep ${id} in ${this.file} cannot be read back: ${parsed.error.issues[0]?.message ?? 'bad document'}`);
    return parsed.data as unknown as SweepDocument;
  }

  /** A stored reference, or null; its arrays are float64 as they were computed. */
  reference(key: string): Reference | null {
    const row = this.db.prepare('SELECT method, steps, accuracy, wall_ms, nfe, x, picture FROM stored_references WHERE key = ?').get(key) as StoredReferenceRow | undefined;
    if (!row) return null;
    const floats = (b: Buffer) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    return { method: row.method, steps: row.steps, accuracy: row.accuracy, wallMs: row.wall_ms, nfe: row.nfe, x: floats(row.x), picture: floats(row.picture) };
  }

  /** Keeps a reference under `key` (a later one for the same key replaces it). */
  saveReference(key: string, reference: Reference, now = new Date()): void {
    const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    this.db
      .prepare('INSERT OR REPLACE INTO stored_references (key, created_at, method, steps, accuracy, wall_ms, nfe, x, picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(key, now.toISOString(), reference.method, reference.steps, reference.accuracy, reference.wallMs, reference.nfe, bytes(reference.x), bytes(reference.picture));
  }

  close(): void {
    this.db.close();
  }
}

interface StoredReferenceRow {
  method: Reference['method'];
  steps: number;
  accuracy: number;
  wall_ms: number;
  nfe: number;
  x: Buffer;
  picture: Buffer;
}
