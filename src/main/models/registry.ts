/**
 * The models the studio offers: the built-in folders plus the folders the user imported,
 * whose list lives in the data folder (models.json, written atomically). A model's id is
 * its absolute folder path.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ModelSummary } from '../../shared/contract';
import { TASKS } from '../../shared/settings';
import { writeFileAtomic } from '../io/files';
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
    tasks: folder.kind === 'pixel' ? [...TASKS] : ['txt2img', 'img2img', 'inpaint'],
    defaults: folder.defaults,
    spacing: folder.scheduler.timestepSpacing,
    builtin,
  };
}

export class ModelRegistry {
  private readonly listFile: string;

  constructor(dataDir: string) {
    this.listFile = path.join(dataDir, 'models.json');
  }

  importedDirs(): string[] {
    if (!existsSync(this.listFile)) return [];
    try {
      const parsed = JSON.parse(readFileSync(this.listFile, 'utf8'));
      return Array.isArray(parsed.imported) ? parsed.imported.filter((d: unknown): d is string => typeof d === 'string') : [];
    } catch {
      // A damaged list must not lose the file: keep it aside and start empty.
      writeFileAtomic(`${this.listFile}.damaged-${Date.now()}`, readFileSync(this.listFile));
      return [];
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
