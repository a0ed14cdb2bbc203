/**
 * What a re-run reports beside its image, for the studio and the CLI alike: whether its
 * settings differ from the original's, what differs in the engine that made it, and whether
 * the image came out bit-identical.
 */
import { readFileSync } from 'node:fs';
import type { GenerationInput, Settings } from '../../../shared/contract';
import { type RgbaPixels, decodePng } from '../io/png';
import { type Fingerprint, fingerprintDiff } from './fingerprint';
import { inputName, picturesOf } from './inputs';
import type { GalleryStore } from './store';
import { GalleryError } from './types';

/** JSON with sorted keys: equal for equal settings whatever order the keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return canonical(a) === canonical(b);
}

/** The settings keys whose values differ, in the settings' order. */
export function changedSettings(from: Settings, to: Settings): (keyof Settings)[] {
  return (Object.keys(to) as (keyof Settings)[]).filter((k) => canonical(from[k]) !== canonical(to[k]));
}

/** Whether `image` has exactly the pixels of the PNG file; null when the file cannot be read. */
export function identicalToFile(file: string | null, image: RgbaPixels): boolean | null {
  if (!file) return null;
  let decoded;
  try {
    decoded = decodePng(readFileSync(file));
  } catch {
    return null;
  }
  return decoded.width === image.width && decoded.height === image.height && Buffer.from(decoded.data).equals(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength));
}

export interface RerunReport {
  fingerprintChanges: string[];
  /** Only when the settings are unchanged and the original's image is readable. */
  identicalToParent?: boolean;
}

/** A finished re-run: its pixels, compared here with the original's file, or the answer of a comparison made elsewhere. */
export type FinishedRerun = { settings: Settings; fingerprint: Fingerprint } & ({ image: RgbaPixels } | { identicalToParent: boolean | null });

/**
 * Compares a finished re-run with its original (generation `parentId` in `gallery`); null when
 * the original is gone. The studio's engine process compares the pixels itself (reading and
 * decoding the original here would block the studio's main process); the CLI passes them.
 */
export function rerunReport(gallery: GalleryStore, parentId: number, run: FinishedRerun): RerunReport | null {
  const meta = gallery.meta(parentId);
  const parent = gallery.get(parentId);
  if (!meta || !parent) return null;
  const report: RerunReport = { fingerprintChanges: fingerprintDiff(meta.fingerprint, run.fingerprint) };
  if (sameSettings(parent.settings, run.settings)) {
    const identical = 'image' in run ? identicalToFile(gallery.imageFile(parentId), run.image) : run.identicalToParent;
    if (identical !== null) report.identicalToParent = identical;
  }
  return report;
}

/**
 * The inputs kept with generation `id` that its re-run as `task` starts from (the task's
 * pictures, and the initial noise when it had one), with their files for the caller to read
 * (and check with checkedInput). A GalleryError says which one is not there.
 */
export function rerunInputFiles(gallery: GalleryStore, id: number, task: Settings['task']): { input: GenerationInput; file: string }[] {
  const kept = gallery.inputs.of(id);
  const out: { input: GenerationInput; file: string }[] = [];
  for (const kind of [...picturesOf(task), 'initNoise'] as const) {
    const input = kept.find((i) => i.kind === kind);
    if (!input) {
      if (kind === 'initNoise') continue;
      throw new GalleryError('invalid', `re-running a ${task} job needs its ${inputName(kind)}, which generation ${id} does not have (it was made before inputs were kept); make it again from its settings and the picture`);
    }
    const file = gallery.inputs.file(id, kind);
    if (!file) throw new GalleryError('invalid', `the ${inputName(kind)} of generation ${id} (${input.hash.slice(0, 12)}…) is missing from the data folder`);
    out.push({ input, file });
  }
  return out;
}
