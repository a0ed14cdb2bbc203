/**
 * The studio's one contract: every operation the renderer may call and every event main
 * sends back, with zod schemas that main validates at the boundary (Electron IPC and the
 * served WebSocket alike). No Node, no DOM.
 */
import { z } from 'zod';
import { MAX_IMAGE_SIDE, MAX_SEED, SPACINGS, TASKS } from './settings';
import { SOLVER_IDS } from './solvers';

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
    })
    .strict(),
  getGeneration: z.object({ id: generationIdSchema }).strict(),
  getImage: z.object({ id: generationIdSchema, thumbnail: z.boolean().default(false) }).strict(),
  rerun: z.object({ id: generationIdSchema, changes: settingsSchema.partial().optional() }).strict(),
} as const;

export type OperationName = keyof typeof operationSchemas;
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

/** What each operation answers. */
export interface OperationOutputs {
  listModels: ModelSummary[];
  importModel: ModelSummary;
  generate: { jobId: string };
  cancel: { cancelled: boolean };
  listGallery: { items: GenerationSummary[]; total: number };
  getGeneration: GenerationRecord;
  getImage: Uint8Array;
  rerun: { jobId: string };
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
  done: { jobId: string; generation: GenerationRecord; image: Uint8Array };
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

export const OPERATIONS = Object.keys(operationSchemas) as OperationName[];
