/**
 * One ONNX file on one execution provider. With free dimensions it is one session; for
 * fixed-dimension providers (DirectML, CoreML) it is one session per set of concrete sizes (a
 * resolution), opened on first use with those sizes fixed in the model (runtime/onnxShapes.ts;
 * onnxruntime-node ignores freeDimensionOverrides) and cached. The batch dimension stays free,
 * so CFG and unguided calls share a session. Sessions open from the file path, so external
 * weights (weights.pb) next to model.onnx load.
 */
import type * as ort from 'onnxruntime-node';
import { type InputSpec, type OpenedSession, type ProviderName, firstLine, inputSpecs, openSession } from '../runtime/sessions';
import { ModelInputError } from './errors';

/** Fixed-size sessions kept per network (each holds its own copy of the weights on the device). */
const MAX_FIXED_SESSIONS = 2;

/** Providers that run much faster (or only) with fixed input sizes. */
export const FIXED_DIMENSION_PROVIDERS: ReadonlySet<ProviderName> = new Set<ProviderName>(['dml', 'coreml']);

export class OnnxComponent {
  readonly provider: ProviderName;
  readonly inputs: Map<string, InputSpec>;
  readonly outputNames: readonly string[];
  /** Fixed-size sessions opened so far, by their overrides. */
  readonly fixedSessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly batchNames = new Set<string>();
  private base: ort.InferenceSession | undefined;

  constructor(
    readonly file: string,
    private readonly modelPath: string,
    opened: OpenedSession,
    readonly fixedDimensions: boolean,
    private readonly threads: number,
  ) {
    this.base = opened.session;
    this.provider = opened.provider;
    this.inputs = inputSpecs(opened.session);
    this.outputNames = [...opened.session.outputNames];
    for (const spec of this.inputs.values()) {
      const first = spec.shape[0];
      if (spec.shape.length >= 1 && typeof first === 'string') this.batchNames.add(first);
    }
  }

  /** The sizes to fix for these feeds: every symbolic non-batch input dimension, by name. */
  overridesFor(feeds: Record<string, ort.Tensor>): Record<string, number> {
    const overrides: Record<string, number> = {};
    for (const [name, tensor] of Object.entries(feeds)) {
      const spec = this.inputs.get(name);
      if (!spec || spec.shape.length < 2) continue;
      spec.shape.forEach((d, i) => {
        if (i > 0 && typeof d === 'string' && d !== '' && !this.batchNames.has(d)) overrides[d] = tensor.dims[i];
      });
    }
    return overrides;
  }

  private async sessionFor(feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession> {
    if (!this.fixedDimensions) return this.base!;
    const overrides = this.overridesFor(feeds);
    if (Object.keys(overrides).length === 0 && this.base) return this.base; // nothing free to fix
    const key = JSON.stringify(Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)));
    let pending = this.fixedSessions.get(key);
    if (pending) {
      // Most recently used last.
      this.fixedSessions.delete(key);
      this.fixedSessions.set(key, pending);
    } else {
      // Bound the memory: keep the sessions of the last MAX_FIXED_SESSIONS sizes (runs are sequential).
      while (this.fixedSessions.size >= MAX_FIXED_SESSIONS) {
        const [oldest, session] = this.fixedSessions.entries().next().value!;
        this.fixedSessions.delete(oldest);
        await session.then((s) => s.release()).catch(() => undefined);
      }
      pending = openSession(this.modelPath, [this.provider], this.threads, { fixedDimensions: overrides })
        .then((opened) => opened.session)
        .catch((error) => {
          this.fixedSessions.delete(key);
          throw new ModelInputError(`${this.file}: could not open a fixed-size session (${key}) on ${this.provider}: ${firstLine(error)}`);
        });
      this.fixedSessions.set(key, pending);
      // The free-dimension session served only to read the metadata: free its memory.
      const base = this.base;
      this.base = undefined;
      await base?.release();
    }
    return pending;
  }

  async run(feeds: Record<string, ort.Tensor>, outputs?: readonly string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    const session = await this.sessionFor(feeds);
    return outputs ? session.run(feeds, outputs) : session.run(feeds);
  }
}
