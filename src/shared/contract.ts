/**
 * The studio's one contract: every operation the renderer may call and every event main
 * sends back, with zod schemas that main validates at the boundary (Electron IPC and the
 * served WebSocket alike). No Node, no DOM.
 */
import { z } from 'zod';
import { MAX_IMAGE_SIDE, MAX_IMPORT_PNG_BYTES, MAX_SEED, MAX_TAG_LENGTH, MAX_TAGS, SPACINGS, TASKS } from './settings';

export { MAX_IMPORT_PNG_BYTES, MAX_TAG_LENGTH, MAX_TAGS };
import { SOLVER_IDS } from './solvers';
import { OPERATION_NAMES, type OperationName } from './operations';

const bytes = z.instanceof(Uint8Array);
const finiteNonNegative = z.number().finite().min(0);

export const settingsSchema = z
  .object({
    task: z.enum(TASKS),
    prompt: z.string().max(2000),
    negativePrompt: z.string().max(2000),
    classLabel: z.number().int().min(0).max(100_000).nullable(),
    classifierScale: finiteNonNegative.max(1000),
    solver: z.enum(SOLVER_IDS as [string, ...string[]]),
    steps: z.number().int().min(1).max(1000),
    guidance: finiteNonNegative.max(100),
    conditionAt: z.enum(['exact', 'same-point']),
    consistencyScale: finiteNonNegative.max(1e6),
    seed: z.number().int().min(0).max(MAX_SEED),
    width: z.number().int().min(1).max(MAX_IMAGE_SIDE),
    height: z.number().int().min(1).max(MAX_IMAGE_SIDE),
    spacing: z.union([z.enum(SPACINGS), z.array(z.number().int().min(0).max(100_000)).min(1).max(1000)]),
    clipX0: z.boolean().nullable(),
    strength: z.number().finite().gt(0).max(1),
  })
  .strict();

export const modelIdSchema = z.string().min(1).max(4096);
export const jobIdSchema = z.string().regex(/^job-[0-9a-z-]{1,40}$/);
export const generationIdSchema = z.number().int().positive();

export const generateRequestSchema = z
  .object({
    modelId: modelIdSchema,
    settings: settingsSchema,
    /** PNG bytes of the init image (img2img, inpaint, colorize, super-resolution). */
    initImage: bytes.optional(),
    /** PNG bytes of the mask (inpaint): white = repaint, black = keep. */
    mask: bytes.optional(),
    /** The generation this one re-runs (lineage). */
    parentId: generationIdSchema.optional(),
  })
  .strict();

const byId = z.object({ id: generationIdSchema }).strict();

export const operationSchemas = {
  listModels: z.object({}).strict(),
  importModel: z.object({ path: z.string().min(1).max(4096) }).strict(),
  generate: generateRequestSchema,
  cancel: z.object({ jobId: jobIdSchema }).strict(),
  listGallery: z
    .object({
      search: z.string().max(500).optional(),
      offset: z.number().int().min(0).max(10_000_000).default(0),
      limit: z.number().int().min(1).max(500).default(60),
      /** Only this model's generations. */
      modelId: modelIdSchema.optional(),
      solver: z.enum(SOLVER_IDS as [string, ...string[]]).optional(),
      task: z.enum(TASKS).optional(),
      /** true: only favourites. */
      favourite: z.boolean().optional(),
      /** true: the trash (only trashed generations) instead of the gallery. */
      trash: z.boolean().optional(),
    })
    .strict(),
  getGeneration: byId,
  getImage: z.object({ id: generationIdSchema, thumbnail: z.boolean().default(false) }).strict(),
  rerun: z.object({ id: generationIdSchema, changes: settingsSchema.partial().optional() }).strict(),
  setFavourite: z.object({ id: generationIdSchema, favourite: z.boolean() }).strict(),
  setTags: z.object({ id: generationIdSchema, tags: z.array(z.string().max(MAX_TAG_LENGTH)).max(MAX_TAGS) }).strict(),
  /** Moves to the trash (soft delete). */
  trashGeneration: byId,
  restoreGeneration: byId,
  /** Deletes every trashed generation and its files, for good. */
  emptyTrash: z.object({}).strict(),
  /** Shows the image file in the system's file manager (the desktop app), and says where it is. */
  showFile: byId,
  /** Settings from a PNG (this studio's or AUTOMATIC1111's) for a re-run; `modelId` is the form's current model. */
  importPng: z.object({ png: bytes.refine((b) => b.length <= MAX_IMPORT_PNG_BYTES, 'the PNG is too large'), modelId: modelIdSchema.optional() }).strict(),
} as const satisfies Record<OperationName, z.ZodType>; // exactly the names in operations.ts, no more, no fewer

export type { OperationName };
export type OperationInput<K extends OperationName> = z.input<(typeof operationSchemas)[K]>;
export type Settings = z.infer<typeof settingsSchema>;
export type GenerateRequest = z.infer<typeof generateRequestSchema>;

export interface ModelSummary {
  id: string;
  name: string;
  kind: 'pixel' | 'latent';
  description?: string;
  license?: string;
  width: number | null;
  height: number | null;
  hasText: boolean;
  classLabels: string[] | null;
  tasks: string[];
  defaults: { solver?: string; steps?: number; guidance?: number; classifierScale?: number; width?: number; height?: number };
  /** The scheduler's own timestep spacing (SD folders: leading), the form's starting spacing. */
  spacing: 'linspace' | 'leading' | 'trailing';
  builtin: boolean;
}

export interface CostReport {
  nfe: number;
  networkRows: number;
  guidanceEvaluations: number;
  classifierCalls: number;
}

export interface GenerationSummary {
  id: number;
  createdAt: string;
  modelId: string;
  modelName: string;
  prompt: string;
  solver: string;
  steps: number;
  seed: number;
  width: number;
  height: number;
  parentId: number | null;
}

export interface GenerationRecord extends GenerationSummary {
  settings: Settings;
  cost: CostReport;
  provider: string;
  durationMs: number;
  warnings: string[];
}

/** A record with what the gallery keeps about it besides the run (getGeneration and the edits answer this). */
export interface GenerationDetail extends GenerationRecord {
  favourite: boolean;
  tags: string[];
  /** When it was moved to the trash, or null. */
  deletedAt: string | null;
  /** The image file is gone from the data folder (the row is kept). */
  missing: boolean;
}

/** Settings read from a PNG, and the model they are for. */
export interface ImportedSettings {
  settings: Settings;
  /** Which chunk they came from: this studio's own JSON, or AUTOMATIC1111's `parameters` text. */
  source: 'split-studio' | 'a1111';
  /** What could not be carried over, or was adapted to the model. */
  warnings: string[];
  /** The installed model the settings are for (the one the PNG names, else the current one), or null. */
  modelId: string | null;
  modelName: string | null;
}

/** What each operation answers. */
export interface OperationOutputs {
  listModels: ModelSummary[];
  importModel: ModelSummary;
  generate: { jobId: string };
  cancel: { cancelled: boolean };
  listGallery: { items: GenerationSummary[]; total: number };
  getGeneration: GenerationDetail;
  getImage: Uint8Array;
  rerun: { jobId: string };
  setFavourite: GenerationDetail;
  setTags: GenerationDetail;
  trashGeneration: GenerationDetail;
  restoreGeneration: GenerationDetail;
  emptyTrash: { deleted: number };
  /** `shown`: the file manager was asked to show it (desktop app only); `path`: where the image is. */
  showFile: { shown: boolean; path: string };
  importPng: ImportedSettings;
}

/** Events main sends to the renderer. */
export interface StudioEvents {
  progress: {
    jobId: string;
    step: number;
    steps: number;
    nfe: number;
    nfeTotal: number;
    elapsedMs: number;
    /** The step's x0 prediction as a PNG. */
    preview: Uint8Array;
  };
  done: {
    jobId: string;
    generation: GenerationRecord;
    image: Uint8Array;
    /**
     * Re-runs only: what differs between the engine that made the original and this one
     * (engine, onnxruntime, provider, model files, noise generator), one line each; empty
     * when nothing did.
     */
    fingerprintChanges?: string[];
    /** Re-runs with unchanged settings only: whether the image is bit-identical to the original's (absent when the original's file is gone). */
    identicalToParent?: boolean;
  };
  failed: { jobId: string; kind: 'settings' | 'cancelled' | 'internal'; message: string };
}

export type EventName = keyof StudioEvents;

/** A failed call: `kind` tells the renderer whether the user's input was at fault. */
export interface CallError {
  kind: 'invalid' | 'refused' | 'internal';
  message: string;
}

/**
 * The studio API the renderer sees, whatever carries it: one named function per operation
 * (the Electron preload exposes exactly these; the served mode implements them over a
 * WebSocket), plus event subscription.
 */
export type StudioApi = { [K in OperationName]: (input: OperationInput<K>) => Promise<OperationOutputs[K]> } & {
  on<E extends EventName>(event: E, listener: (payload: StudioEvents[E]) => void): () => void;
};

export const OPERATIONS: readonly OperationName[] = OPERATION_NAMES;
