/**
 * The models the studio offers: the built-in folders plus the folders the user imported,
 * whose list lives in the data folder (models.json, written atomically). A model's id is
 * its absolute folder path. The studio's service and the CLI's `models` commands both go
 * through this class, so the two always show the same list.
 */
import { lstatSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { ModelSummary } from '../../../shared/contract';
import { tasksOfKind } from '../../../shared/modelSettings';
import { InputFileError, readFileBounded, writeFileAtomic } from '../io/files';
import { builtinModelDirs } from './catalog';
import { type ModelFolder, readModelFolder } from './modelFolder';

/** model_index.json's class of the closed-form Gaussian mixtures (resources/exact): references for testing solvers, not picture makers. */
export const EXACT_MODEL_CLASS = 'SplitStudioExactGaussianMixture';

/** Whether a folder is an exact reference model (listed apart, "for testing solvers"). */
export function isForTesting(folder: Pick<ModelFolder, 'className'>): boolean {
  return folder.className === EXACT_MODEL_CLASS;
}

/** A model the registry will not remove, or one it does not have; the message says which and why. */
export class ModelRemoveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelRemoveError';
  }
}

/** One imported (added) entry of models.json: its folder, or why it cannot be read now. */
export type ImportedEntry = { dir: string; folder: ModelFolder; error?: undefined } | { dir: string; folder?: undefined; error: string };

export function summarize(folder: ModelFolder, builtin: boolean, size: { width: number | null; height: number | null }): ModelSummary {
  return {
    id: folder.dir,
    name: folder.name,
    kind: folder.kind,
    description: folder.description,
    license: folder.license,
    width: size.width,
    height: size.height,
    hasText: Boolean(folder.textEncoderPath),
    classLabels: folder.classLabels ?? null,
    tasks: [...tasksOfKind(folder.kind)],
    defaults: folder.defaults,
    spacing: folder.scheduler.timestepSpacing,
    builtin,
    forTesting: isForTesting(folder),
  };
}

/** models.json lists folder paths; a list this large is damaged, not a user's. */
const MAX_LIST_BYTES = 4 * 1024 * 1024;

export class ModelRegistry {
  private readonly listFile: string;

  constructor(dataDir: string) {
    this.listFile = path.join(dataDir, 'models.json');
  }

  importedDirs(): string[] {
    let text: string | undefined;
    try {
      text = readFileBounded(this.listFile, MAX_LIST_BYTES, 'models.json').toString('utf8');
    } catch (error) {
      if (!(error instanceof InputFileError)) throw error;
      if (!this.listExists()) return [];
      // Present but not a readable file of sane size (a folder, a FIFO, huge): damaged.
    }
    if (text !== undefined) {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          const imported = (parsed as { imported?: unknown }).imported;
          return Array.isArray(imported) ? imported.filter((d: unknown): d is string => typeof d === 'string') : [];
        }
      } catch {
        // damaged: set aside below
      }
    }
    this.setAside();
    return [];
  }

  private listExists(): boolean {
    try {
      lstatSync(this.listFile);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A damaged list must not be lost, nor copied again on every call (folders() runs often):
   * it is moved aside once, after which the list is simply absent until the next import
   * writes a new one. A failed move (read-only folder) leaves it where it is, uncopied.
   */
  private setAside(): void {
    try {
      renameSync(this.listFile, `${this.listFile}.damaged-${Date.now()}`);
    } catch {
      // kept in place; importedDirs keeps answering [] without copying anything
    }
  }

  /**
   * The imported folders as listed, each read now or with the reason it cannot be (moved,
   * unplugged drive). A built-in folder imported again is left out: it is listed once, as built-in.
   */
  imported(): ImportedEntry[] {
    const builtin = new Set(builtinModelDirs());
    return this.importedDirs()
      .filter((dir) => !builtin.has(dir))
      .map((dir) => {
        try {
          return { dir, folder: readModelFolder(dir) };
        } catch (error) {
          return { dir, error: (error as Error).message };
        }
      });
  }

  /** Built-in first, then imported; folders that fail to read are skipped (import reports errors). */
  folders(): { folder: ModelFolder; builtin: boolean }[] {
    const out: { folder: ModelFolder; builtin: boolean }[] = [];
    for (const dir of builtinModelDirs()) out.push({ folder: readModelFolder(dir), builtin: true });
    // listed but unreadable now: not offered, kept in the list (the drive may come back)
    for (const entry of this.imported()) if (entry.folder) out.push({ folder: entry.folder, builtin: false });
    return out;
  }

  isBuiltin(id: string): boolean {
    return builtinModelDirs().includes(id);
  }

  find(id: string): ModelFolder | undefined {
    return this.folders().find((f) => f.folder.dir === id)?.folder;
  }

  /** Reads and checks a folder without remembering it (throws ModelFolderError naming the problem): the studio has the engine open it before import. */
  check(dir: string): ModelFolder {
    return readModelFolder(dir);
  }

  /** Validates the folder (throws ModelFolderError naming the problem) and remembers it (a built-in one needs no entry). */
  import(dir: string): ModelFolder {
    const folder = readModelFolder(dir);
    const list = this.importedDirs();
    if (!list.includes(folder.dir) && !this.isBuiltin(folder.dir)) this.writeList([...list, folder.dir]);
    return folder;
  }

  /**
   * Forgets an added model: its entry leaves models.json; its folder and the generations made
   * with it stay where they are. `id` is the folder path (as listed; a relative path is taken
   * from the working folder). Built-in models, the exact reference models among them, are
   * refused, as is an id that is not on the list; the message says which.
   */
  remove(id: string): { dir: string; name: string } {
    const dir = path.resolve(id);
    if (this.isBuiltin(dir)) {
      let name = path.basename(dir);
      let testing = false;
      try {
        const folder = readModelFolder(dir);
        name = folder.name;
        testing = isForTesting(folder);
      } catch {
        // the name is only for the message
      }
      throw new ModelRemoveError(
        testing
          ? `${name} is an exact reference model shipped with the studio for testing solvers; it cannot be removed`
          : `${name} is built into the studio and cannot be removed; only added models can be`,
      );
    }
    const list = this.importedDirs();
    if (!list.includes(dir)) throw new ModelRemoveError(`${id} is not an added model (those are the folders added with Add in the studio or split-studio models add)`);
    let name = path.basename(dir);
    try {
      name = readModelFolder(dir).name;
    } catch {
      // an unreadable folder (moved, unplugged) can be removed too; its folder name stands in
    }
    this.writeList(list.filter((d) => d !== dir));
    return { dir, name };
  }

  private writeList(dirs: string[]): void {
    writeFileAtomic(this.listFile, JSON.stringify({ imported: dirs }, null, 2));
  }
}
