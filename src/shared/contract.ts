/**
 * The studio's one contract: every operation the renderer may call and every event main
 * sends back, with zod schemas that main validates at the boundary (Electron IPC and the
 * served WebSocket alike). No Node, no DOM.
 */
import { z } from 'zod';
import { LAB_LIMITS, type LabRequest, type ReferenceRecord, type SweepDocument, type SweepRecord, type SweepSummary } from './lab';
import { type CallErrorKind, OPERATION_NAMES, type OperationName } from './operations';
import { MAX_IMPORT_PNG_BYTES, MAX_TAG_LENGTH, MAX_TAGS, SPACINGS, type Settings, TASKS } from './settings';
import { type FieldName, type NumberLimits, SETTINGS_LIMITS as LIMITS } from './settingsFields';
import { CONDITION_PLACEMENTS, type CostReport, SOLVER_IDS, SPACING_NAMES, type SpacingName } from './solvers';

export { MAX_IMPORT_PNG_BYTES, MAX_TAG_LENGTH, MAX_TAGS };
export type { Settings };

const bytes = z.instanceof(Uint8Array);

/** A finite number within `limits` (SETTINGS_LIMITS: one definition for the schema, the CLI and the form). */
function limitedNumber(limits: NumberLimits) {
  let schema = z.number().finite();
  if (limits.integer) schema = schema.int();
  if (limits.min !== undefined) schema = schema.min(limits.min);
  if (limits.above !== undefined) schema = schema.gt(limits.above);
  if (limits.max !== undefined) schema = schema.max(limits.max);
  return schema;
}

/** Settings (settings.ts) as the contract accepts them: every number within its SETTINGS_LIMITS. */
export const settingsSchema = z
  .object({
    task: z.enum(TASKS),
    prompt: z.string().max(LIMITS.prompt.maxLength),
    negativePrompt: z.string().max(LIMITS.negativePrompt.maxLength),
    classLabel: limitedNumber(LIMITS.classLabel).nullable(),
    classifierScale: limitedNumber(LIMITS.classifierScale),
    solver: z.enum(SOLVER_IDS as [string, ...string[]]),
    steps: limitedNumber(LIMITS.steps),
    guidance: limitedNumber(LIMITS.guidance),
    conditionAt: z.enum(CONDITION_PLACEMENTS),
    consistencyScale: limitedNumber(LIMITS.consistencyScale),
    seed: limitedNumber(LIMITS.seed),
    width: limitedNumber(LIMITS.width),
    height: limitedNumber(LIMITS.height),
    // At most as many explicit timesteps as steps may be.
    spacing: z.union([z.enum(SPACINGS), z.array(limitedNumber(LIMITS.spacing)).min(LIMITS.steps.min).max(LIMITS.steps.max)]),
    clipX0: z.boolean().nullable(),
    strength: limitedNumber(LIMITS.strength),
    eta: limitedNumber(LIMITS.eta).optional(),
  })
  .strict() satisfies z.ZodType<Settings>;

const modelIdSchema = z.string().min(1).max(4096);
const jobIdSchema = z.string().regex(/^job-[0-9a-z-]{1,40}$/);
const generationIdSchema = z.number().int().positive();

const generateRequestSchema = z
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

/** What a generation keeps of its inputs (content-addressed in the data folder), so that it can be re-run. */
export const INPUT_KINDS = ['initImage', 'mask', 'initNoise'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** A list of distinct numbers, each within [min, max], at most `count` of them. */
const numberList = (min: number, max: number, count: number, integer = false) =>
  z
    .array(integer ? z.number().int().min(min).max(max) : z.number().finite().min(min).max(max))
    .min(1)
    .max(count)
    .refine((values) => new Set(values).size === values.length, 'each value once');

/** The Lab's sweep request (lab.ts; the plan's own checks, such as a budget too small for a solver, come after). */
export const labRequestSchema = z
  .object({
    modelId: modelIdSchema,
    solvers: z
      .array(z.enum(SOLVER_IDS as [string, ...string[]]))
      .min(LAB_LIMITS.solvers.min)
      .max(LAB_LIMITS.solvers.max)
      .refine((v) => new Set(v).size === v.length, 'each solver once'),
    nfe: numberList(LAB_LIMITS.nfe.min, LAB_LIMITS.nfe.max, LAB_LIMITS.nfe.count, true),
    spacings: z
      .array(z.enum(SPACING_NAMES))
      .min(1)
      .max(LAB_LIMITS.spacings.count)
      .refine((v) => new Set(v).size === v.length, 'each grid once'),
    guidances: numberList(LAB_LIMITS.guidances.min, LAB_LIMITS.guidances.max, LAB_LIMITS.guidances.count),
    classLabel: limitedNumber(LIMITS.classLabel).nullable(),
    classifierScales: numberList(LAB_LIMITS.classifierScales.min, LAB_LIMITS.classifierScales.max, LAB_LIMITS.classifierScales.count),
    prompt: z.string().max(LIMITS.prompt.maxLength),
    negativePrompt: z.string().max(LIMITS.negativePrompt.maxLength),
    seeds: z
      .array(limitedNumber(LIMITS.seed))
      .min(1)
      .max(LAB_LIMITS.seeds.count)
      .refine((v) => new Set(v).size === v.length, 'each seed once'),
    referenceSteps: z.number().int().min(LAB_LIMITS.referenceSteps.min).max(LAB_LIMITS.referenceSteps.max),
  })
  .strict() satisfies z.ZodType<LabRequest>;

export const operationSchemas = {
  listModels: z.object({}).strict(),
  importModel: z.object({ path: z.string().min(1).max(4096) }).strict(),
  /** Forgets an added model (its folder and its generations stay); built-in models are refused. */
  removeModel: z.object({ id: modelIdSchema }).strict(),
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
  /** The bytes of an input kept with a generation: its init image or mask (PNG), or its initial noise (.npy). */
  getInput: z.object({ id: generationIdSchema, kind: z.enum(INPUT_KINDS) }).strict(),
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
  /**
   * Runs a sweep in the engine process (progress: sweepProgress; end: sweepDone or failed; `cancel` with its jobId stops it, keeping what finished:
   * sweepDone with complete false, or failed with kind 'cancelled' when no run had finished, and then nothing is saved).
   */
  startSweep: labRequestSchema,
  /** The saved sweeps, newest first. */
  listSweeps: z.object({}).strict(),
  /** A saved sweep's document. */
  getSweep: z.object({ id: z.number().int().positive() }).strict(),
} as const satisfies Record<OperationName, z.ZodType>; // exactly the names in operations.ts, no more, no fewer

export type { OperationName };
export type OperationInput<K extends OperationName> = z.input<(typeof operationSchemas)[K]>;

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
  defaults: { solver?: string; spacing?: SpacingName; steps?: number; guidance?: number; classifierScale?: number; width?: number; height?: number };
  /** The scheduler's own timestep spacing (SD folders: leading), the form's starting spacing. */
  spacing: 'linspace' | 'leading' | 'trailing';
  builtin: boolean;
  /** An exact reference model (closed-form Gaussian mixture): listed apart, for testing solvers, not for pictures. */
  forTesting?: boolean;
}

export type { CostReport };

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
  /** Its re-runs (children in the lineage) not in the trash, oldest first. */
  children: number[];
  /** The inputs kept with it, which a re-run uses: none for txt2img, nor for generations made before inputs were kept. */
  inputs: GenerationInput[];
}

/** An input kept with a generation: `hash` is the SHA-256 of its bytes (PNG or .npy), `bytes` its size; width and height for pictures. */
export interface GenerationInput {
  kind: InputKind;
  hash: string;
  bytes: number;
  width: number | null;
  height: number | null;
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
  /** `generationsKept`: how many gallery generations (trash included) were made with it; they stay. */
  removeModel: { id: string; name: string; generationsKept: number };
  generate: { jobId: string };
  cancel: { cancelled: boolean };
  listGallery: { items: GenerationSummary[]; total: number };
  getGeneration: GenerationDetail;
  getImage: Uint8Array;
  getInput: Uint8Array;
  rerun: { jobId: string };
  setFavourite: GenerationDetail;
  setTags: GenerationDetail;
  trashGeneration: GenerationDetail;
  restoreGeneration: GenerationDetail;
  /** `freedBytes`: the files deleted, images and the inputs no remaining generation uses. */
  emptyTrash: { deleted: number; freedBytes: number };
  /** `shown`: the file manager was asked to show it (desktop app only); `path`: where the image is. */
  showFile: { shown: boolean; path: string };
  importPng: ImportedSettings;
  /** `plannedRuns`: how many runs the plan has; `skipped`: solver and grid pairs left out, with why. */
  startSweep: { jobId: string; plannedRuns: number; skipped: string[] };
  listSweeps: SweepSummary[];
  getSweep: SweepDocument & { id: number; createdAt: string };
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
  /** A sweep's reference or run finished (`completed` of `plannedRuns` runs). */
  sweepProgress: {
    jobId: string;
    completed: number;
    plannedRuns: number;
    elapsedMs: number;
    record?: SweepRecord;
    reference?: ReferenceRecord;
  };
  /** A sweep ended, complete or cancelled part way (what finished is saved either way): its saved id. */
  sweepDone: { jobId: string; sweepId: number; complete: boolean; runs: number; plannedRuns: number };
  /** `field`: the setting or input a refused run ('settings') was refused for, where the engine names one. */
  failed: { jobId: string; kind: 'settings' | 'cancelled' | 'internal'; message: string; field?: FieldName };
}

export type EventName = keyof StudioEvents;

/**
 * A failed call: `kind` tells the renderer whether the user's input was at fault, and `field`
 * which setting or input it was (the control the message belongs beside), when one was.
 */
export interface CallError {
  kind: CallErrorKind;
  message: string;
  field?: FieldName;
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
