import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { DatabaseVersionError, MIGRATIONS, SCHEMA_VERSION, migrate, openDatabase, type Database } from './db';

let dir: string;
const opened: Database[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gallery-db-'));
});
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(file = path.join(dir, 'g.sqlite')): Database {
  const db = openDatabase(file);
  opened.push(db);
  return db;
}

function names(db: Database, type: string): string[] {
  return (db.prepare('SELECT name FROM sqlite_schema WHERE type = ? ORDER BY name').all(type) as { name: string }[]).map((r) => r.name);
}

const ROW = {
  created_at: '2025-01-01T00:00:00.000Z', model_id: 'm', model_name: 'M', model_hash: 'h', task: 'txt2img', solver: 'ddim',
  solver_order: 1, steps: 10, nfe: 10, guidance: 1, classifier_scale: 0, seed: 1, width: 8, height: 8, spacing: 'linspace',
  duration_ms: 1, provider: 'cpu', prompt: 'red fox', negative_prompt: 'blurry', settings_json: '{}', cost_json: '{}',
  warnings_json: '[]', fingerprint_json: '{}',
};

function insert(db: Database, over: Partial<typeof ROW> & { parent_id?: number | null } = {}): number {
  const row = { parent_id: null, ...ROW, ...over };
  const cols = Object.keys(row);
  const sql = `INSERT INTO generations (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`;
  return Number(db.prepare(sql).run(row).lastInsertRowid);
}

function search(db: Database, match: string): number[] {
  return (db.prepare('SELECT rowid FROM generations_fts WHERE generations_fts MATCH ? ORDER BY rowid').all(match) as { rowid: number }[]).map((r) => r.rowid);
}

describe('openDatabase', () => {
  test('migrates an empty database from user_version 0 to the latest, with the pragmas set', () => {
    const file = path.join(dir, 'g.sqlite');
    const fresh = new BetterSqlite3(file);
    expect(fresh.pragma('user_version', { simple: true })).toBe(0);
    fresh.close();

    const db = open(file);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(1000);
    expect(names(db, 'table')).toEqual(expect.arrayContaining(['generations', 'tags', 'generations_fts']));
    expect(names(db, 'index')).toEqual(
      expect.arrayContaining(['idx_generations_model_id', 'idx_generations_solver', 'idx_generations_task', 'idx_generations_favourite', 'idx_generations_created_at', 'idx_generations_deleted_at']),
    );
    const columns = (db.prepare('PRAGMA table_info(generations)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining([
      'id', 'created_at', 'model_id', 'model_name', 'model_hash', 'task', 'solver', 'solver_order', 'steps', 'nfe', 'guidance',
      'classifier_scale', 'seed', 'width', 'height', 'spacing', 'duration_ms', 'provider', 'prompt', 'negative_prompt', 'settings_json',
      'cost_json', 'warnings_json', 'fingerprint_json', 'parent_id', 'favourite', 'deleted_at', 'image_file', 'thumbnail_file',
    ]));
    db.close();

    // Re-opening an up-to-date database changes nothing.
    const again = open(file);
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  });

  test('refuses a database from a newer build, without changing the file', () => {
    const file = path.join(dir, 'g.sqlite');
    const newer = new BetterSqlite3(file);
    newer.exec('CREATE TABLE future (x)');
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const before = readFileSync(file);

    expect(() => openDatabase(file)).toThrow(DatabaseVersionError);
    expect(() => openDatabase(file)).toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*up to ${SCHEMA_VERSION}.*newer version`));
    expect(readFileSync(file).equals(before)).toBe(true);
    const check = new BetterSqlite3(file, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete'); // WAL was not switched on
    check.close();
  });

  test('a file that is not a database is a clear error', () => {
    const file = path.join(dir, 'junk.sqlite');
    writeFileSync(file, 'this is not a SQLite database, it is a text file of some length'.repeat(20));
    expect(() => openDatabase(file)).toThrow(/gallery database .*junk\.sqlite cannot be opened: file is not a database\. Nothing was changed.*gallery recover/);
    expect(readFileSync(file, 'utf8')).toMatch(/^this is not a SQLite database/);
  });
});

describe('migrate', () => {
  test('applies steps in order, each with its version, and a failing step rolls back completely', () => {
    const db = new BetterSqlite3(':memory:');
    const steps = ['CREATE TABLE a (x)', 'CREATE TABLE b (x); INSERT INTO a VALUES (1); CREATE TABLE broken (', 'CREATE TABLE c (x)'];
    expect(() => migrate(db, ':memory:', steps)).toThrow(/incomplete input|syntax error/);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(names(db, 'table')).toEqual(['a']);
    expect(db.prepare('SELECT count(*) FROM a').pluck().get()).toBe(0);

    const fixed = [steps[0], 'CREATE TABLE b (x)', 'CREATE TABLE c (x)'];
    expect(migrate(db, ':memory:', fixed)).toBe(3);
    expect(names(db, 'table')).toEqual(['a', 'b', 'c']);
    expect(() => migrate(db, ':memory:', fixed.slice(0, 2))).toThrow(DatabaseVersionError);
    db.close();
  });
});

describe('schema', () => {
  test('full-text index follows inserts, updates, tag changes and deletes', () => {
    const db = open();
    const a = insert(db, { prompt: 'a red fox in the snow', negative_prompt: 'blurry, watermark' });
    const b = insert(db, { prompt: 'portrait of an astronaut', negative_prompt: '' });
    expect(search(db, 'fox')).toEqual([a]);
    expect(search(db, 'watermark')).toEqual([a]);
    expect(search(db, 'astro*')).toEqual([b]);

    db.prepare('INSERT INTO tags VALUES (?, ?), (?, ?)').run(b, 'space', b, 'favourite set');
    expect(search(db, 'space')).toEqual([b]);
    expect(search(db, 'astronaut')).toEqual([b]); // the prompt is still indexed after a tag change
    db.prepare('DELETE FROM tags WHERE generation_id = ? AND tag = ?').run(b, 'space');
    expect(search(db, 'space')).toEqual([]);
    expect(search(db, 'favourite')).toEqual([b]);

    db.prepare('UPDATE generations SET prompt = ? WHERE id = ?').run('a grey wolf', a);
    expect(search(db, 'fox')).toEqual([]);
    expect(search(db, 'wolf')).toEqual([a]);
    expect(search(db, 'watermark')).toEqual([a]);

    db.prepare('DELETE FROM generations WHERE id = ?').run(b);
    expect(search(db, 'favourite')).toEqual([]);
    expect(search(db, 'astronaut')).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM tags').pluck().get()).toBe(0); // cascade
    expect(search(db, 'wolf')).toEqual([a]);
  });

  test('parent_id is set to NULL when the parent is deleted; ids are never reused', () => {
    const db = open();
    const parent = insert(db);
    const child = insert(db, { parent_id: parent });
    expect(() => insert(db, { parent_id: 9999 })).toThrow(/FOREIGN KEY/);
    db.prepare('DELETE FROM generations WHERE id = ?').run(parent);
    expect(db.prepare('SELECT parent_id FROM generations WHERE id = ?').pluck().get(child)).toBeNull();
    db.prepare('DELETE FROM generations WHERE id = ?').run(child);
    expect(insert(db)).toBeGreaterThan(child);
  });
});
