/**
 * The studio's operations, behind whichever transport carries them (Electron IPC or the
 * served WebSocket). Every input is validated against the contract's schema first; errors
 * come back as CallError with `kind` saying whether the caller's input was at fault.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { type CallError, type EventName, type GenerationDetail, type GenerationRecord, type ModelSummary, type OperationName, type OperationOutputs, type Settings, type StudioEvents, operationSchemas } from '../../shared/contract';
import { guidanceTerms, runSteps } from '../../shared/runShape';
import { expectedCost } from '../../shared/solvers';
import { ModelFolderError } from '../core/models/modelFolder';
import { MAIN_MODEL_FILE, modelHashes, shortModelHash } from '../core/models/modelHashes';
import { type ModelRegistry, ModelRemoveError, summarize } from '../core/models/registry';
import type { EngineHost } from './engineHost';
import { StudioCallError } from './callError';
import { labOperations } from './lab';
import type { SweepStore } from '../core/lab/store';
import { makeFingerprint } from '../core/gallery/fingerprint';
import { type InstalledModel, importPngSettings } from '../core/gallery/importPng';
import { PngMetadataError } from '../core/gallery/pngMetadata';
import { rerunInputFiles, rerunReport, sameSettings } from '../core/gallery/rerun';
import { checkedInput, inputName, usedInputs } from '../core/gallery/inputs';
import { GalleryError, type GalleryStore, type NewInputs } from '../core/gallery/store';
import { pngDimensions } from '../core/io/png';

export { ENGINE_VERSION, NOISE_GENERATOR } from '../core/gallery/fingerprint';
export { pngDimensions } from '../core/io/png';

export { StudioCallError };

export interface StudioDeps {
  registry: ModelRegistry;
  host: EngineHost;
  gallery: GalleryStore;
  emit<E extends EventName>(event: E, payload: StudioEvents[E]): void;
  providers: string[];
  /** The Lab's saved sweeps (lab.sqlite in the data folder); without it the Lab's operations are refused. */
  sweeps?: SweepStore;
  /** The desktop app's file manager (Electron's shell.showItemInFolder); absent in served mode. */
  showItemInFolder?: (file: string) => void;
}

/**
 * The most generations and sweeps waiting or running at once. Each holds its request (init image and
 * mask, up to 24 MiB each) in this process and in the engine until it ends: without a
 * bound, 20 queued 16 MiB images cost ~560 MB here.
 */
export const MAX_PENDING_JOBS = 16;
/** The most init-image and mask bytes held for waiting or running generations, together. */
export const MAX_PENDING_INPUT_BYTES = 96 * 1024 * 1024;

/**
 * Refuses an input picture larger than the image being made: every task needs it at the
 * settings' size (super-resolution: smaller), which the schema caps at MAX_IMAGE_SIDE. An
 * 8000x8000 PNG would otherwise grow the engine by ~720 MB before it is refused.
 */
export function checkInputSize(bytes: Uint8Array | undefined, input: 'initImage' | 'mask', settings: Pick<Settings, 'width' | 'height'>): void {
  const size = bytes && pngDimensions(bytes);
  if (!size) return;
  if (size.width > settings.width || size.height > settings.height) {
    const what = input === 'initImage' ? 'init image' : 'mask';
    throw new StudioCallError('invalid', `the ${what} is ${size.width}x${size.height}, larger than the ${settings.width}x${settings.height} image being made; scale it down first`, input);
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

export function createStudioService(deps: StudioDeps) {
  /** Generations accepted and not yet ended (done or failed), and the input bytes they hold. */
  let pendingJobs = 0;
  let pendingInputBytes = 0;
  const sizes = new Map<string, Promise<{ width: number | null; height: number | null }>>();
  const sizeOf = (dir: string) => {
    let size = sizes.get(dir);
    if (!size) {
      size = deps.host.validate(dir, deps.providers);
      sizes.set(dir, size);
      size.catch(() => sizes.delete(dir));
    }
    return size;
  };

  /** The record with its gallery state; a GalleryError or a missing row becomes an 'invalid' call error. */
  function detail(id: number): GenerationDetail {
    const record = deps.gallery.get(id);
    const meta = deps.gallery.meta(id);
    if (!record || !meta) throw new StudioCallError('invalid', `there is no generation ${id}`);
    const children = deps.gallery.children(id).map((c) => c.id);
    return { ...record, favourite: meta.favourite, tags: meta.tags, deletedAt: meta.deletedAt, missing: meta.missing, children, inputs: deps.gallery.inputs.of(id) };
  }

  /** Runs a gallery edit, mapping the store's errors to call errors, and answers the updated detail. */
  function edit(id: number, change: () => void): GenerationDetail {
    try {
      change();
    } catch (error) {
      if (error instanceof GalleryError) throw new StudioCallError('invalid', error.message);
      throw error;
    }
    return detail(id);
  }

  function installedModels(): InstalledModel[] {
    return deps.registry.folders().map(({ folder, builtin }) => ({
      id: folder.dir,
      name: folder.name,
      summary: async () => summarize(folder, builtin, await sizeOf(folder.dir)),
      unetHash: async () => (await modelHashes(folder.dir))[MAIN_MODEL_FILE] ?? '',
    }));
  }

  /** For a re-run with its original's settings, the original's image file: the engine compares the pixels (this process never decodes an image). */
  function originalToCompare(parentId: number | undefined, settings: Settings): string | undefined {
    if (parentId === undefined) return undefined;
    try {
      const parent = deps.gallery.get(parentId);
      return parent && sameSettings(parent.settings, settings) ? (deps.gallery.imageFile(parentId) ?? undefined) : undefined;
    } catch {
      return undefined; // the comparison is a courtesy; an unreadable original just goes without
    }
  }

  /** The inputs kept with generation `id` that a re-run as `task` starts from, read without blocking and checked against their hashes. */
  async function rerunInputs(id: number, task: Settings['task']): Promise<NewInputs> {
    const inputs: NewInputs = {};
    try {
      for (const { input, file } of rerunInputFiles(deps.gallery, id, task)) inputs[input.kind] = checkedInput(input, new Uint8Array(await readFile(file)), id);
    } catch (error) {
      if (error instanceof GalleryError) throw new StudioCallError('invalid', error.message);
      throw error;
    }
    return inputs;
  }

  /** Counts a job (a generation or a sweep) and its input bytes from here until the end() it answers (its one end: done, failed, or the start throwing). */
  function reserve(inputBytes = 0): () => void {
    if (pendingJobs >= MAX_PENDING_JOBS) {
      throw new StudioCallError('refused', `${MAX_PENDING_JOBS} generations and sweeps are already waiting or running; wait for one to finish or cancel one`);
    }
    if (pendingInputBytes + inputBytes > MAX_PENDING_INPUT_BYTES) {
      throw new StudioCallError('refused', `the generations waiting or running already hold ${Math.round(pendingInputBytes / 2 ** 20)} MiB of input images; wait for one to finish or cancel one`);
    }
    pendingJobs += 1;
    pendingInputBytes += inputBytes;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      pendingJobs -= 1;
      pendingInputBytes -= inputBytes;
    };
  }
  const lab = labOperations({ ...deps, sizeOf, reserve });

  async function startJob(modelId: string, settings: Settings, extras: NewInputs & { parentId?: number }): Promise<{ jobId: string }> {
    const folder = deps.registry.find(modelId);
    if (!folder) throw new StudioCallError('invalid', `no model with id ${modelId}; pick one from the list`, 'modelId');
    checkInputSize(extras.initImage, 'initImage', settings);
    checkInputSize(extras.mask, 'mask', settings);
    const inputBytes = (extras.initImage?.length ?? 0) + (extras.mask?.length ?? 0) + (extras.initNoise?.length ?? 0);
    const end = reserve(inputBytes);
    const jobId = deps.host.newJobId();
    const nfeTotal = expectedCost(settings.solver, runSteps(settings), guidanceTerms(settings), settings.conditionAt).nfe;
    try {
      await deps.host.run(
        {
          jobId, modelDir: folder.dir, settings, initImage: extras.initImage, mask: extras.mask, initNoise: extras.initNoise, providers: deps.providers,
          compareWith: originalToCompare(extras.parentId, settings),
        },
        {
          progress: (m) => deps.emit('progress', { jobId, step: m.step, steps: m.steps, nfe: m.nfe, nfeTotal, elapsedMs: m.elapsedMs, preview: m.preview }),
          failed: (m) => {
            end();
            deps.emit('failed', { jobId, kind: m.kind, message: m.message, field: m.field });
          },
          done: (m) => {
            // Only bookkeeping here, no pixel work: the engine made the files and compared the pixels.
            end();
            const r = m.result;
            const fingerprint = makeFingerprint(r);
            let generation: GenerationRecord;
            try {
              generation = deps.gallery.add({
                settings,
                modelId: folder.dir,
                modelName: folder.name,
                modelHash: shortModelHash(r.modelHashes),
                provider: r.provider,
                cost: r.cost,
                durationMs: r.totalMs,
                warnings: r.warnings,
                // The original may have been deleted for good (empty trash) while this ran.
                parentId: extras.parentId !== undefined && deps.gallery.get(extras.parentId) ? extras.parentId : null,
                fingerprint,
                image: { width: r.image.width, height: r.image.height, png: r.image.png, thumbnail: r.image.thumbnail },
                // Kept (once per content) so that it can be re-run.
                inputs: usedInputs(settings.task, extras),
              });
            } catch (error) {
              deps.emit('failed', { jobId, kind: 'internal', message: `the image was made but could not be saved: ${(error as Error).message}` });
              return;
            }
            let rerun = {};
            if (generation.parentId !== null) {
              try {
                rerun = rerunReport(deps.gallery, generation.parentId, { settings, fingerprint, identicalToParent: r.identicalToParent ?? null }) ?? {};
              } catch {
                // the comparison is a courtesy: the image is saved whatever it finds
              }
            }
            deps.emit('done', { jobId, generation, image: r.image.png, ...rerun });
          },
        },
      );
    } catch (error) {
      end();
      throw error;
    }
    return { jobId };
  }

  const handlers: { [K in OperationName]: (input: z.infer<(typeof operationSchemas)[K]>) => Promise<OperationOutputs[K]> } = {
    async listModels() {
      const out: ModelSummary[] = [];
      for (const { folder, builtin } of deps.registry.folders()) {
        try {
          out.push(summarize(folder, builtin, await sizeOf(folder.dir)));
        } catch {
          // a model the engine cannot open is not offered; importModel reports why
        }
      }
      return out;
    },
    async importModel({ path }) {
      let folder;
      try {
        folder = deps.registry.check(path);
      } catch (error) {
        if (error instanceof ModelFolderError) throw new StudioCallError('invalid', error.message);
        throw error;
      }
      let size;
      try {
        size = await sizeOf(folder.dir);
      } catch (error) {
        throw new StudioCallError('invalid', `${path}: ${(error as Error).message}`);
      }
      // Remembered only once the engine could open it: a folder it cannot run must not stay on the list unseen.
      deps.registry.import(folder.dir);
      return summarize(folder, deps.registry.isBuiltin(folder.dir), size);
    },
    async removeModel({ id }) {
      let removed;
      try {
        removed = deps.registry.remove(id);
      } catch (error) {
        if (error instanceof ModelRemoveError) throw new StudioCallError('invalid', error.message);
        throw error;
      }
      sizes.delete(removed.dir);
      // Its generations keep their rows and files (and their model name); only a re-run needs the model.
      const generationsKept = deps.gallery.list({ modelId: removed.dir, limit: 1 }).total + deps.gallery.list({ modelId: removed.dir, limit: 1, onlyDeleted: true }).total;
      return { id: removed.dir, name: removed.name, generationsKept };
    },
    generate: ({ modelId, settings, initImage, mask, parentId }) => startJob(modelId, settings, { initImage, mask, parentId }),
    async cancel({ jobId }) {
      return { cancelled: deps.host.cancel(jobId) };
    },
    async listGallery({ search, offset, limit, modelId, solver, task, favourite, trash }) {
      return deps.gallery.list({
        search,
        offset,
        limit,
        ...(modelId !== undefined ? { modelId } : {}),
        ...(solver !== undefined ? { solver } : {}),
        ...(task !== undefined ? { task } : {}),
        // "favourites" is a filter: unticked shows everything, not only the non-favourites.
        ...(favourite ? { favourite: true } : {}),
        ...(trash ? { onlyDeleted: true } : {}),
      });
    },
    async getGeneration({ id }) {
      return detail(id);
    },
    async getImage({ id, thumbnail }) {
      const file = thumbnail ? deps.gallery.thumbnailFile(id) : deps.gallery.imageFile(id);
      if (!file) throw new StudioCallError('invalid', `there is no image for generation ${id}`);
      return new Uint8Array(readFileSync(file));
    },
    async getInput({ id, kind }) {
      detail(id); // an unknown id is the caller's mistake
      const input = deps.gallery.inputs.of(id).find((i) => i.kind === kind);
      const file = input && deps.gallery.inputs.file(id, kind);
      if (!input) throw new StudioCallError('invalid', `generation ${id} has no ${inputName(kind)} kept with it`);
      if (!file) throw new StudioCallError('invalid', `the ${inputName(kind)} of generation ${id} is missing from the data folder`);
      try {
        return checkedInput(input, new Uint8Array(await readFile(file)), id);
      } catch (error) {
        if (error instanceof GalleryError) throw new StudioCallError('invalid', error.message);
        throw error;
      }
    },
    async rerun({ id, changes }) {
      const record = deps.gallery.get(id);
      if (!record) throw new StudioCallError('invalid', `there is no generation ${id}`);
      if (!deps.registry.find(record.modelId)) {
        throw new StudioCallError('invalid', `generation ${id} was made with ${record.modelName}, which is not installed (removed, or its folder ${record.modelId} was moved or cannot be read); add that folder again to re-run it`);
      }
      const settings = { ...record.settings, ...changes };
      return startJob(record.modelId, settings, { ...(await rerunInputs(id, settings.task)), parentId: id });
    },
    async setFavourite({ id, favourite }) {
      return edit(id, () => deps.gallery.setFavourite(id, favourite));
    },
    async setTags({ id, tags }) {
      return edit(id, () => deps.gallery.setTags(id, tags));
    },
    async trashGeneration({ id }) {
      return edit(id, () => deps.gallery.trash(id));
    },
    async restoreGeneration({ id }) {
      return edit(id, () => deps.gallery.restore(id));
    },
    async emptyTrash() {
      const { deleted, freedBytes } = deps.gallery.emptyTrash();
      return { deleted: deleted.length, freedBytes };
    },
    async showFile({ id }) {
      detail(id); // an unknown id is the caller's mistake, not a missing file
      const file = deps.gallery.imageFile(id);
      if (!file) throw new StudioCallError('invalid', `the image file of generation ${id} is missing from the data folder`);
      if (!deps.showItemInFolder) return { shown: false, path: file };
      deps.showItemInFolder(file);
      return { shown: true, path: file };
    },
    async importPng({ png, modelId }) {
      try {
        return await importPngSettings(png, installedModels(), modelId ?? null);
      } catch (error) {
        if (error instanceof PngMetadataError) throw new StudioCallError('invalid', error.message);
        throw error;
      }
    },
    startSweep: (request) => lab.startSweep(request),
    listSweeps: () => lab.listSweeps(),
    getSweep: (input) => lab.getSweep(input),
  };

  return {
    /** Validates `rawInput` against the operation's schema, then runs it. */
    async handle(op: string, rawInput: unknown): Promise<unknown> {
      if (!Object.hasOwn(operationSchemas, op)) throw new StudioCallError('refused', `unknown operation ${JSON.stringify(op).slice(0, 60)}`);
      const name = op as OperationName;
      const parsed = operationSchemas[name].safeParse(rawInput ?? {});
      if (!parsed.success) throw new StudioCallError('invalid', `${name}: ${describeIssues(parsed.error)}`);
      return (handlers[name] as (input: unknown) => Promise<unknown>)(parsed.data);
    },
  };
}

export type StudioService = ReturnType<typeof createStudioService>;

/** A CallError for any thrown value: internal errors keep only their first line. */
export function toCallError(error: unknown): CallError {
  if (error instanceof StudioCallError) return { kind: error.kind, message: error.message, ...(error.field ? { field: error.field } : {}) };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'internal', message: message.split('\n')[0] };
}
