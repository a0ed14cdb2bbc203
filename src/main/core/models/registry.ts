/**
 * The models the studio offers: the built-in folders plus the folders the user imported,
 * whose list lives in the data folder (models.json, written atomically). A model's id is
 * its absolute folder path.
 */
import { lstatSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { ModelSummary } from '../../../shared/contract';
import { tasksOfKind } from '../../../shared/modelSettings';
import { InputFileError, readFileBounded, writeFileAtomic } from '../io/files';
import { builtinModelDirs } from './catalog';
import { type ModelFolder, readModelFolder } from './modelFolder';

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

  /** Built-in first, then imported; folders that fail to read are skipped (import reports errors). */
  folders(): { folder: ModelFolder; builtin: boolean }[] {
    const out: { folder: ModelFolder; builtin: boolean }[] = [];
    for (const dir of builtinModelDirs()) out.push({ folder: readModelFolder(dir), builtin: true });
    for (const dir of this.importedDirs()) {
      try {
        out.push({ folder: readModelFolder(dir), builtin: false });
      } catch {
        // listed but unreadable now (moved, unplugged drive): not offered, kept in the list
      }
    }
    return out;
  }

  find(id: string): ModelFolder | undefined {
    return this.folders().find((f) => f.folder.dir === id)?.folder;
  }

  /** Validates the folder (throws ModelFolderError naming the problem) and remembers it. */
  import(dir: string): ModelFolder {
    const folder = readModelFolder(dir);
    const list = this.importedDirs();
    if (!list.includes(folder.dir)) writeFileAtomic(this.listFile, JSON.stringify({ imported: [...list, folder.dir] }, null, 2));
    return folder;
  }
}
