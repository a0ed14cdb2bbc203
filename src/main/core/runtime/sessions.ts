/**
 * ONNX Runtime sessions: execution providers tried one at a time in the user's order
 * (onnxruntime-node throws on a failing provider instead of falling back), thread counts
 * capped so the machine stays responsive, and input metadata read from the model.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { loadWithFixedDimensions } from './onnxShapes';

// ONNX Runtime's global logger prints an error line when a provider's library is missing
// (e.g. CUDA on a machine without it) even though we catch and report that failure; every
// real failure still reaches us as a thrown error, so only fatal messages are printed.
ort.env.logLevel = 'fatal';

const PROVIDERS = ['cuda', 'dml', 'coreml', 'cpu'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface SkippedProvider {
  provider: ProviderName;
  reason: string;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  skipped: SkippedProvider[];
}

export function parseProviders(text: string): ProviderName[] {
  const list = text.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  if (list.length === 0) throw new Error(`the provider list needs at least one of: ${PROVIDERS.join(', ')}`);
  for (const p of list) {
    if (!(PROVIDERS as readonly string[]).includes(p)) throw new Error(`unknown execution provider "${p}"; choose from ${PROVIDERS.join(', ')}`);
  }
  return list as ProviderName[];
}

/** Default order: the accelerators this platform can have, then CPU. */
export function defaultProviders(): ProviderName[] {
  if (process.platform === 'win32') return ['dml', 'cpu'];
  if (process.platform === 'darwin') return ['coreml', 'cpu'];
  return ['cuda', 'cpu'];
}

/** Threads for one session: leave a core free for the UI, never more than 8. */
export function defaultThreads(): number {
  const fromEnv = Number(process.env.SPLIT_STUDIO_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores - 1));
}

function backendsInThisBuild(): Set<string> {
  try {
    return new Set(ort.listSupportedBackends().map((b) => b.name));
  } catch {
    return new Set(['cpu']);
  }
}

/** Per-session extras. */
export interface SessionExtras {
  /**
   * Fixed sizes for the graph inputs' symbolic dimensions, by name (DirectML and CoreML run
   * much faster with them). Applied by rewriting the model (onnxShapes.ts): onnxruntime-node
   * ignores the `freeDimensionOverrides` session option.
   */
  fixedDimensions?: Readonly<Record<string, number>>;
}

export async function openSession(modelPath: string, providers: readonly ProviderName[], threads = defaultThreads(), extras: SessionExtras = {}): Promise<OpenedSession> {
  const available = backendsInThisBuild();
  const skipped: SkippedProvider[] = [];
  for (const provider of providers) {
    if (!available.has(provider)) {
      skipped.push({ provider, reason: `not in this onnxruntime-node build for ${process.platform}-${process.arch}` });
      continue;
    }
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [provider],
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // A provider that fails to load is reported through the thrown error; keep
        // ONNX Runtime's own log of that failure off the user's terminal.
        logSeverityLevel: provider === 'cpu' ? 3 : 4,
        // DirectML does not support ONNX Runtime's memory-pattern optimisation (its documentation asks to disable it).
        ...(provider === 'dml' ? { enableMemPattern: false } : {}),
      };
      let session: ort.InferenceSession;
      if (extras.fixedDimensions && Object.keys(extras.fixedDimensions).length) {
        const fixed = loadWithFixedDimensions(modelPath, extras.fixedDimensions);
        session = await ort.InferenceSession.create(fixed.bytes, { ...options, externalData: fixed.externalData });
      } else {
        session = await ort.InferenceSession.create(modelPath, options);
      }
      return { session, provider, skipped };
    } catch (error) {
      skipped.push({ provider, reason: firstLine(error) });
    }
  }
  const why = skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ');
  throw new Error(`could not open ${modelPath} with any execution provider (${why})`);
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((l) => l.trim())?.trim() ?? 'unknown error';
}

export interface InputSpec {
  name: string;
  type: ort.Tensor.Type;
  shape: readonly (number | string)[];
}

export function inputSpecs(session: ort.InferenceSession): Map<string, InputSpec> {
  const specs = new Map<string, InputSpec>();
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) throw new Error(`input "${meta.name}" is not a tensor`);
    specs.set(meta.name, { name: meta.name, type: meta.type, shape: meta.shape });
  }
  return specs;
}
