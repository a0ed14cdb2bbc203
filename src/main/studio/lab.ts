/**
 * The studio's Lab operations: a sweep (core/lab) planned here, checked before anything starts,
 * run in the engine process (queued with the generations, cancelled by `cancel`), its progress
 * relayed as sweepProgress events and its outcome saved in lab.sqlite (sweepDone); the saved
 * sweeps listed and read back.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EventName, OperationOutputs, Settings, StudioEvents } from '../../shared/contract';
import { LAB_LIMITS, type LabRequest, type OdeKey, type SweepRecord } from '../../shared/lab';
import { DEFAULT_CONDITION_AT, DEFAULT_CONSISTENCY_SCALE } from '../../shared/settings';
import { type SweepSpec, SweepPlanError, odeKeyOf, planSweep } from '../core/lab/plan';
import { type Reference, referenceKeyOf } from '../core/lab/reference';
import { ENGINE_VERSION } from '../core/gallery/fingerprint';
import { modelHashes } from '../core/models/modelHashes';
import { sweepDocument } from '../core/lab/report';
import type { SweepStore } from '../core/lab/store';
import type { ModelRegistry } from '../core/models/registry';
import { StudioCallError } from './callError';
import type { EngineHost } from './engineHost';

export interface LabDeps {
  registry: ModelRegistry;
  host: EngineHost;
  /** The saved sweeps (lab.sqlite in the data folder); without it the Lab's operations are refused. */
  sweeps?: SweepStore;
  emit<E extends EventName>(event: E, payload: StudioEvents[E]): void;
  providers: string[];
  /** The model's image size as the engine opens it (the service's cached validation). */
  sizeOf(dir: string): Promise<{ width: number | null; height: number | null }>;
  /** Counts a job against the studio's pending-job limit (throws 'refused' when full) until the end() it answers. */
  reserve(): () => void;
}

/** The size a sweep samples at when neither the model's defaults nor its network say one. */
const FALLBACK_SIDE = 64;

const invalid = (message: string) => new StudioCallError('invalid', message);

/**
 * A run as the Lab sees it: a PSNR of identical pictures (Infinity) is null, as the type says
 * and as lab.sqlite keeps it, so that a record reads the same live, saved, and over either
 * transport (the served mode's JSON has no Infinity).
 */
const finite = (r: SweepRecord): SweepRecord => (r.psnr === null || Number.isFinite(r.psnr) ? r : { ...r, psnr: null });

/** Each guided ODE's reference key, and the references lab.sqlite already has for them (network models). */
async function storedReferences(sweeps: SweepStore, dir: string, runs: readonly OdeKey[], base: Settings, steps: number) {
  const keyOf = referenceKeyOf(await modelHashes(dir), ENGINE_VERSION, steps);
  const keys: Record<string, string> = {};
  const stored: Record<string, Reference> = {};
  for (const run of runs) {
    const ode = odeKeyOf(run);
    if (keys[ode]) continue;
    const key = keyOf({ seed: run.seed, guidance: run.guidance, classifierScale: run.classifierScale, base });
    keys[ode] = key;
    const found = sweeps.reference(key);
    if (found) stored[key] = found;
  }
  return { keys, stored };
}

export function labOperations(deps: LabDeps) {
  const store = (): SweepStore => {
    if (!deps.sweeps) throw new StudioCallError('refused', 'this studio was started without a place to keep sweeps, so the Lab cannot be used');
    return deps.sweeps;
  };

  /** The request as a SweepSpec, checked against the model, and planned; every refusal before anything starts. */
  function plan(request: LabRequest) {
    const folder = deps.registry.find(request.modelId);
    if (!folder) throw new StudioCallError('invalid', `no model with id ${request.modelId}; pick one from the list`, 'modelId');
    const exact = existsSync(path.join(folder.dir, 'gmm.json'));
    if (exact && request.guidances.some((w) => w !== 1)) {
      throw invalid(`${folder.name} is an exact model with no unconditional branch, so classifier-free guidance cannot be used: the guidance must be 1 (use a class and classifier scales instead)`);
    }
    const { classLabel } = request;
    if (classLabel !== null && !folder.classLabels) throw invalid(`${folder.name} has no classifier, so a class cannot be used`);
    if (classLabel !== null && classLabel >= folder.classLabels!.length) throw invalid(`class ${classLabel} is out of range: ${folder.name} has classes 0..${folder.classLabels!.length - 1}`);
    if (classLabel === null && request.classifierScales.some((s) => s !== 0)) throw invalid('classifier scales other than 0 need a class to guide toward');
    if (request.prompt !== '' && !folder.textEncoderPath) throw invalid(`${folder.name} has no text encoder, so a prompt cannot be used`);
    const spec: SweepSpec = {
      solvers: request.solvers,
      budget: { kind: 'nfe', values: request.nfe },
      spacings: request.spacings,
      guidances: request.guidances,
      classLabel,
      classifierScales: request.classifierScales,
      prompt: request.prompt,
      seeds: request.seeds,
      conditionAt: DEFAULT_CONDITION_AT,
    };
    let planned;
    try {
      planned = planSweep(spec);
    } catch (error) {
      // The plan speaks the CLI's flags ("--nfe 8 is too few network calls for ..."); the Lab has no flags.
      if (error instanceof SweepPlanError) throw invalid(error.message.replace(/^--nfe /, 'a budget of ').replace(/^--steps /, ''));
      throw error;
    }
    if (planned.runs.length > LAB_LIMITS.runs) {
      throw invalid(`this sweep plans ${planned.runs.length} runs, more than the ${LAB_LIMITS.runs} one sweep may run; use fewer solvers, budgets, scales or seeds`);
    }
    return { folder, exact, spec, ...planned };
  }

  return {
    async startSweep(request: LabRequest): Promise<OperationOutputs['startSweep']> {
      const sweeps = store();
      const { folder, exact, spec, runs, skipped } = plan(request);
      let size;
      try {
        size = await deps.sizeOf(folder.dir);
      } catch (error) {
        throw invalid(`${folder.name}: ${(error as Error).message}`);
      }
      const first = runs[0]!;
      const base: Settings = {
        task: 'txt2img', prompt: spec.prompt, negativePrompt: request.negativePrompt, classLabel: spec.classLabel, classifierScale: spec.classifierScales[0]!,
        solver: first.solver, steps: first.steps, guidance: spec.guidances[0]!, conditionAt: spec.conditionAt, consistencyScale: DEFAULT_CONSISTENCY_SCALE,
        seed: spec.seeds[0]!, width: folder.defaults.width ?? size.width ?? FALLBACK_SIDE, height: folder.defaults.height ?? size.height ?? FALLBACK_SIDE,
        spacing: first.spacing, clipX0: null, strength: 1,
      };
      const references = exact ? undefined : await storedReferences(sweeps, folder.dir, runs, base, request.referenceSteps);
      const end = deps.reserve();
      const jobId = deps.host.newJobId();
      const plannedRuns = runs.length;
      const records: SweepRecord[] = [];
      const fail = (message: StudioEvents['failed']) => {
        end();
        deps.emit('failed', message);
      };
      try {
        await deps.host.sweep(
          { jobId, modelDir: folder.dir, providers: deps.providers, runs, base, referenceSteps: request.referenceSteps, pictureSeed: spec.seeds[0]!, references },
          {
            reference: (m) => {
              // A reference the engine had to compute is kept for the next sweep of the same ODE; failing to keep it loses nothing of this sweep.
              if (m.keep) {
                try {
                  sweeps.saveReference(m.keep.key, m.keep.reference);
                } catch {
                  // the next sweep computes it again
                }
              }
              deps.emit('sweepProgress', { jobId, completed: records.length, plannedRuns, elapsedMs: m.elapsedMs, reference: m.reference });
            },
            record: (m) => {
              const record = finite(m.record);
              records.push(record);
              deps.emit('sweepProgress', { jobId, completed: records.length, plannedRuns, elapsedMs: m.elapsedMs, record });
            },
            failed: (m) => fail({ jobId, kind: m.kind, message: m.message, ...(m.field ? { field: m.field } : {}) }),
            done: (m) => {
              let sweepId;
              try {
                const doc = sweepDocument({
                  model: { name: folder.name, dir: folder.dir, kind: exact ? 'exact' : m.kind }, spec, references: m.references, runs: m.runs.map(finite), complete: m.complete, plannedRuns,
                });
                sweepId = sweeps.save(doc);
              } catch (error) {
                return fail({ jobId, kind: 'internal', message: `the sweep ran but could not be saved: ${(error as Error).message}` });
              }
              end();
              deps.emit('sweepDone', { jobId, sweepId, complete: m.complete, runs: m.runs.length, plannedRuns });
            },
          },
        );
      } catch (error) {
        end();
        throw error;
      }
      return { jobId, plannedRuns, skipped };
    },
    async listSweeps(): Promise<OperationOutputs['listSweeps']> {
      return store().list();
    },
    async getSweep({ id }: { id: number }): Promise<OperationOutputs['getSweep']> {
      const sweeps = store();
      const summary = sweeps.summary(id);
      const doc = summary && sweeps.get(id);
      if (!summary || !doc) throw invalid(`there is no sweep ${id}`);
      return { ...doc, id, createdAt: summary.createdAt };
    },
  };
}
