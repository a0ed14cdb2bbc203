/**
 * The inputs a generation is kept with, so that it can be re-run: the init image and the mask
 * (PNG bytes as given) and the initial noise (.npy). Each is stored once, content-addressed,
 * as inputs/<sha256>.png or .npy, however many generations use it (layout.ts); the rows say
 * which generation uses which (db.ts, schema v2). Only GalleryStore writes and deletes them,
 * through KeptInputs, inside its own transactions.
 *
 * Concurrency (the CLI beside the studio): a new file is written before its row; the row's
 * transaction checks again, under the write lock, that the file is there (an emptyTrash in
 * another process may have deleted an unused copy meanwhile) and writes it again if not; and
 * emptyTrash deletes a file, under the same lock, only once no generation links to it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type GenerationInput, INPUT_KINDS, type InputKind, type Settings } from '../../../shared/contract';
import { writeFileAtomic } from '../io/files';
import { readNpy } from '../io/npy';
import { pngDimensions } from '../io/png';
import type { Database } from './db';
import { removeFile } from './layout';
import { GalleryError, type NewInputs } from './types';

/** The only names the gallery gives input files: the SHA-256 of the bytes, and what they are. */
const INPUT_FILE_RE = /^[0-9a-f]{64}\.(png|npy)$/;

const WHAT: Record<InputKind, string> = { initImage: 'init image', mask: 'mask', initNoise: 'initial noise' };

export function inputName(kind: InputKind): string {
  return WHAT[kind];
}

/** The pictures a task starts from (initial noise, when given, any task uses). */
export function picturesOf(task: Settings['task']): InputKind[] {
  return task === 'txt2img' ? [] : task === 'inpaint' ? ['initImage', 'mask'] : ['initImage'];
}

/** Of the inputs given for a run, those it uses, which the gallery keeps with it. */
export function usedInputs(task: Settings['task'], given: NewInputs): NewInputs {
  const used: NewInputs = {};
  for (const kind of [...picturesOf(task), 'initNoise'] as const) if (given[kind] !== undefined) used[kind] = given[kind];
  return used;
}

export function inputHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An input ready to be stored: checked, hashed and named. */
export interface InputToStore extends GenerationInput {
  file: string;
  data: Uint8Array;
}

/** Checks that the bytes are what the kind needs (a PNG, or a readable .npy), hashes and names them. */
function inputToStore(kind: InputKind, data: unknown): InputToStore {
  if (!(data instanceof Uint8Array) || data.length === 0) throw new GalleryError('invalid', `the ${WHAT[kind]} must be non-empty bytes`);
  const hash = inputHash(data);
  if (kind === 'initNoise') {
    try {
      readNpy(data);
    } catch (error) {
      throw new GalleryError('invalid', `the initial noise is not a readable .npy file: ${(error as Error).message}`);
    }
    return { kind, hash, bytes: data.length, width: null, height: null, file: `${hash}.npy`, data };
  }
  const size = pngDimensions(data);
  if (!size) throw new GalleryError('invalid', `the ${WHAT[kind]} is not a PNG`);
  return { kind, hash, bytes: data.length, width: size.width, height: size.height, file: `${hash}.png`, data };
}

/** A new generation's inputs, checked and hashed, in INPUT_KINDS order. */
export function inputsToStore(inputs: NewInputs | undefined): InputToStore[] {
  if (inputs === undefined) return [];
  if (typeof inputs !== 'object' || inputs === null) throw new GalleryError('invalid', 'inputs must be an object of byte arrays');
  const unknown = Object.keys(inputs).find((k) => !(INPUT_KINDS as readonly string[]).includes(k));
  if (unknown) throw new GalleryError('invalid', `unknown input "${unknown.slice(0, 40)}"; inputs are ${INPUT_KINDS.join(', ')}`);
  return INPUT_KINDS.filter((kind) => inputs[kind] !== undefined).map((kind) => inputToStore(kind, inputs[kind]));
}

/** The bytes read back from an input file, checked against the hash they are stored under. */
export function checkedInput(input: GenerationInput, data: Uint8Array, id: number): Uint8Array {
  if (data.length !== input.bytes || inputHash(data) !== input.hash) {
    throw new GalleryError('invalid', `the stored ${WHAT[input.kind]} of generation ${id} is damaged (its bytes no longer match what was stored)`);
  }
  return data;
}

type InputRow = GenerationInput & { file: string };

/** The inputs folder and its rows, as GalleryStore uses them (inside its transactions where said). */
export class KeptInputs {
  private readonly s;

  constructor(
    private readonly db: Database,
    readonly dir: string,
  ) {
    this.s = {
      insert: db.prepare<[string, string, number, number | null, number | null]>('INSERT OR IGNORE INTO inputs (hash, file, bytes, width, height) VALUES (?, ?, ?, ?, ?)'),
      link: db.prepare<[number, InputKind, string]>('INSERT INTO generation_inputs (generation_id, kind, hash) VALUES (?, ?, ?)'),
      stored: db.prepare<[string]>('SELECT 1 FROM inputs WHERE hash = ?').pluck(),
      of: db.prepare<[number]>(`
        SELECT l.kind, i.hash, i.file, i.bytes, i.width, i.height FROM generation_inputs l JOIN inputs i ON i.hash = l.hash
        WHERE l.generation_id = ? ORDER BY CASE l.kind WHEN 'initImage' THEN 0 WHEN 'mask' THEN 1 ELSE 2 END`),
      // idx_generation_inputs_hash answers each probe.
      unused: db.prepare<[]>('SELECT hash, file FROM inputs WHERE hash NOT IN (SELECT hash FROM generation_inputs)'),
      delete: db.prepare<[string]>('DELETE FROM inputs WHERE hash = ?'),
    };
  }

  /** Writes the input's file unless it is there (same name, same bytes); whether it wrote it. */
  write(input: InputToStore): boolean {
    const file = path.join(this.dir, input.file);
    if (existsSync(file)) return false;
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(file, input.data);
    return true;
  }

  /** Inside add()'s transaction: the rows and links, and the file again if an emptyTrash took it since write(); the id. */
  link(id: number, inputs: InputToStore[]): number {
    for (const input of inputs) {
      this.s.insert.run(input.hash, input.file, input.bytes, input.width, input.height);
      this.s.link.run(id, input.kind, input.hash);
      this.write(input);
    }
    return id;
  }

  /** After a failed add: removes the files it wrote, unless another generation stored the same input meanwhile. */
  forget(written: InputToStore[]): void {
    if (written.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const input of written) if (!this.s.stored.get(input.hash)) rmSync(path.join(this.dir, input.file), { force: true });
      }).immediate();
    } catch {
      // an unused input file left behind costs only its bytes; the add's own error matters
    }
  }

  /** A generation's inputs (init image, mask, initial noise, in that order); [] for none or no such generation. */
  of(id: number): GenerationInput[] {
    return (this.s.of.all(id) as InputRow[]).map(({ kind, hash, bytes, width, height }) => ({ kind, hash, bytes, width, height }));
  }

  /** The file of one of a generation's inputs, or null (none of that kind, or its file is gone). */
  file(id: number, kind: InputKind): string | null {
    const row = (this.s.of.all(id) as InputRow[]).find((r) => r.kind === kind);
    if (!row || !INPUT_FILE_RE.test(row.file)) return null;
    const file = path.join(this.dir, row.file);
    return existsSync(file) ? file : null;
  }

  /** Inside emptyTrash's transaction, after the rows went: deletes the inputs no generation uses, each file before its row; the bytes freed. */
  deleteUnused(): number {
    let freed = 0;
    for (const input of this.s.unused.all() as Pick<InputRow, 'hash' | 'file'>[]) {
      try {
        if (INPUT_FILE_RE.test(input.file)) freed += removeFile(path.join(this.dir, input.file));
      } catch {
        continue; // kept, and tried again by the next emptyTrash
      }
      this.s.delete.run(input.hash);
    }
    return freed;
  }
}
