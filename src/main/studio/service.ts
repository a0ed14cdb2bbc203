/**
 * The studio's operations, behind whichever transport carries them (Electron IPC or the
 * served WebSocket). Every input is validated against the contract's schema first; errors
 * come back as CallError with `kind` saying whether the caller's input was at fault.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type CallError, type EventName, type GenerationRecord, type ModelSummary, type OperationName, type OperationOutputs, type Settings, type StudioEvents, operationSchemas } from '../../shared/contract';
import { guidanceKind, runSteps } from '../../shared/runShape';
import { expectedCost } from '../../shared/solvers';
import { ModelFolderError } from '../models/modelFolder';
import { type ModelRegistry, summarize } from '../models/registry';
import type { EngineHost } from '../host/engineHost';
import type { GalleryStore } from '../gallery/store';
import { encodePng } from '../io/png';

export const ENGINE_VERSION = '0.1.0';
export const NOISE_GENERATOR = 'torch.randn CPU (MT19937, AVX2 Box-Muller), float32';

export class StudioCallError extends Error implements CallError {
  constructor(readonly kind: CallError['kind'], message: string) {
    super(message);
  }
}

export interface StudioDeps {
  registry: ModelRegistry;
  host: EngineHost;
  gallery: GalleryStore;
  emit<E extends EventName>(event: E, payload: StudioEvents[E]): void;
  providers: string[];
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`)
    .join('; ');
}

export function createStudioService(deps: StudioDeps) {
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

  async function startJob(modelId: string, settings: Settings, extras: { initImage?: Uint8Array; mask?: Uint8Array; parentId?: number }): Promise<{ jobId: string }> {
    const folder = deps.registry.find(modelId);
    if (!folder) throw new StudioCallError('invalid', `no model with id ${modelId}; pick one from the list`);
    const jobId = deps.host.newJobId();
    const nfeTotal = expectedCost(settings.solver, runSteps(settings), guidanceKind(settings), settings.conditionAt).nfe;
    await deps.host.run(
      { jobId, modelDir: folder.dir, settings, initImage: extras.initImage, mask: extras.mask, providers: deps.providers },
      {
        progress: (m) => deps.emit('progress', { jobId, step: m.step, steps: m.steps, nfe: m.nfe, nfeTotal, elapsedMs: m.elapsedMs, preview: m.preview }),
        failed: (m) => deps.emit('failed', { jobId, kind: m.kind, message: m.message }),
        done: (m) => {
          const r = m.result;
          let generation: GenerationRecord;
          try {
            generation = deps.gallery.add({
              settings,
              modelId: folder.dir,
              modelName: folder.name,
              modelHash: (r.modelHashes['unet/model.onnx'] ?? '').slice(0, 10),
              provider: r.provider,
              cost: r.cost,
              durationMs: r.totalMs,
              warnings: r.warnings,
              parentId: extras.parentId ?? null,
              fingerprint: { engineVersion: ENGINE_VERSION, onnxruntimeVersion: r.onnxruntimeVersion, provider: r.provider, modelHashes: r.modelHashes, noiseGenerator: NOISE_GENERATOR },
              image: r.image,
            });
          } catch (error) {
            deps.emit('failed', { jobId, kind: 'internal', message: `the image was made but could not be saved: ${(error as Error).message}` });
            return;
          }
          deps.emit('done', { jobId, generation, image: encodePng({ ...r.image, channels: 4 }) });
        },
      },
    );
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
        folder = deps.registry.import(path);
      } catch (error) {
        if (error instanceof ModelFolderError) throw new StudioCallError('invalid', error.message);
        throw error;
      }
      try {
        return summarize(folder, false, await sizeOf(folder.dir));
      } catch (error) {
        throw new StudioCallError('invalid', `${path}: ${(error as Error).message}`);
      }
    },
    generate: ({ modelId, settings, initImage, mask, parentId }) => startJob(modelId, settings, { initImage, mask, parentId }),
    async cancel({ jobId }) {
      return { cancelled: deps.host.cancel(jobId) };
    },
    async listGallery({ search, offset, limit }) {
      return deps.gallery.list({ search, offset, limit });
    },
    async getGeneration({ id }) {
      const record = deps.gallery.get(id);
      if (!record) throw new StudioCallError('invalid', `there is no generation ${id}`);
      return record;
    },
    async getImage({ id, thumbnail }) {
      const file = thumbnail ? deps.gallery.thumbnailFile(id) : deps.gallery.imageFile(id);
      if (!file) throw new StudioCallError('invalid', `there is no image for generation ${id}`);
      return new Uint8Array(readFileSync(file));
    },
    async rerun({ id, changes }) {
      const record = deps.gallery.get(id);
      if (!record) throw new StudioCallError('invalid', `there is no generation ${id}`);
      const settings = { ...record.settings, ...changes };
      if (settings.task !== 'txt2img') throw new StudioCallError('invalid', `re-running a ${settings.task} job needs its input images; use its settings and choose them again`);
      return startJob(record.modelId, settings, { parentId: id });
    },
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
  if (error instanceof StudioCallError) return { kind: error.kind, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'internal', message: message.split('\n')[0] };
}
