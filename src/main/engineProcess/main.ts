/**
 * The engine process: ONNX sessions, pipelines and samplers, off the main process's thread
 * (onnxruntime-node's run() blocks its thread for a whole network call). Runs under
 * Electron as a utilityProcess (process.parentPort) and under plain Node as a forked child
 * (process.send). Never touches the database.
 */
import * as ort from 'onnxruntime-node';
import { SettingsError } from '../core/engine/errors';
import { costReport } from '../core/engine/model';
import { ENGINE_VERSION } from '../core/gallery/fingerprint';
import { encodeGalleryImage } from '../core/gallery/galleryImage';
import { identicalToFile } from '../core/gallery/rerun';
import { readNpy } from '../core/io/npy';
import { decodePng, encodePng } from '../core/io/png';
import { readModelFolder } from '../core/models/modelFolder';
import { modelHashes, shortModelHash } from '../core/models/modelHashes';
import { tensorToImage } from '../core/pipelines/images';
import { openPipeline } from '../core/pipelines/open';
import type { Pipeline } from '../core/pipelines/pipeline';
import { type ProviderName, parseProviders } from '../core/runtime/sessions';
import type { FromEngine, RunJob, SweepJob, ToEngine } from './messages';
import { failedMessage, sweep } from './sweep';

interface Channel {
  send(message: FromEngine): void;
  onMessage(listener: (message: ToEngine) => void): void;
}

function channel(): Channel {
  const parentPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void } }).parentPort;
  if (parentPort) {
    return { send: (m) => parentPort.postMessage(m), onMessage: (l) => parentPort.on('message', (e) => l(e.data as ToEngine)) };
  }
  if (!process.send) throw new Error('the engine process must be started by the studio (no IPC channel)');
  return { send: (m) => process.send!(m), onMessage: (l) => process.on('message', (m) => l(m as ToEngine)) };
}

const models = new Map<string, Promise<Pipeline>>();

function modelFor(dir: string, providers: ProviderName[]): Promise<Pipeline> {
  const key = `${dir}|${providers.join(',')}`;
  let model = models.get(key);
  if (!model) {
    model = openPipeline(readModelFolder(dir), providers);
    models.set(key, model);
    model.catch(() => models.delete(key));
  }
  return model;
}

/** Previews are at most this wide or high, so per-step PNGs stay cheap for large images. */
const PREVIEW_MAX_SIDE = 256;

async function run(job: RunJob, controller: AbortController, send: (m: FromEngine) => void): Promise<void> {
  const started = performance.now();
  try {
    const model = await modelFor(job.modelDir, parseProviders(job.providers.join(',')));
    // No input picture is ever larger than the image being made (the pipelines need it at
    // that size, or smaller for super-resolution): refuse a bigger one from its header,
    // before the decoder allocates for it.
    const maxPixels = job.settings.width * job.settings.height;
    const decode = (bytes: Uint8Array | undefined, field: 'initImage' | 'mask', what: string) => {
      if (!bytes) return undefined;
      try {
        const png = decodePng(bytes, { maxPixels });
        return { width: png.width, height: png.height, data: png.data };
      } catch (error) {
        throw new SettingsError(`${what}: ${(error as Error).message}`, { field, kind: 'format' });
      }
    };
    const noise = (bytes: Uint8Array | undefined) => {
      if (!bytes) return undefined;
      try {
        return readNpy(bytes, { requireFinite: true, what: 'the initial noise' }).data;
      } catch (error) {
        throw new SettingsError((error as Error).message, { field: 'initNoise', kind: 'format' });
      }
    };
    const C = model.image.channels;
    const result = await model.generate(job.settings, {
      initImage: decode(job.initImage, 'initImage', 'init image'),
      mask: decode(job.mask, 'mask', 'mask'),
      initNoise: noise(job.initNoise),
      signal: controller.signal,
      onStep: async (p) => {
        const { width, height } = job.settings;
        const preview = width <= PREVIEW_MAX_SIDE && height <= PREVIEW_MAX_SIDE ? encodePng({ ...tensorToImage(p.x0, C, width, height), channels: 4 }) : new Uint8Array();
        send({ type: 'progress', jobId: job.jobId, step: p.step, steps: p.steps, nfe: p.nfe, elapsedMs: performance.now() - started, preview });
        // Let 'cancel' messages in: awaiting resolved promises never yields to the event loop.
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    const hashes = await modelHashes(job.modelDir);
    // The gallery's two files, made here: encoding a 512x512 result took the main process
    // ~150 ms, three times its event-loop budget.
    const files = encodeGalleryImage(result.image, job.settings, { modelHash: shortModelHash(hashes), modelName: model.folder.name, engineVersion: ENGINE_VERSION });
    send({
      type: 'done',
      jobId: job.jobId,
      result: {
        image: { width: result.image.width, height: result.image.height, png: files.png, thumbnail: files.thumbnail },
        ...(job.compareWith !== undefined ? { identicalToParent: identicalToFile(job.compareWith, result.image) } : {}),
        cost: costReport(result.cost),
        provider: model.provider,
        skippedProviders: model.skippedProviders,
        timesteps: result.timesteps,
        warnings: result.warnings,
        samplingMs: result.samplingMs,
        totalMs: performance.now() - started,
        modelHashes: hashes,
        onnxruntimeVersion: ort.env.versions.common,
      },
    });
  } catch (error) {
    send(failedMessage(job.jobId, error));
  }
}

function startEngineProcess(): void {
  const { send, onMessage } = channel();
  const queue: { job: RunJob | SweepJob; controller: AbortController }[] = [];
  let running = false;
  const controllers = new Map<string, AbortController>();
  const pump = async () => {
    if (running) return;
    running = true;
    while (queue.length) {
      const next = queue.shift()!;
      if (next.controller.signal.aborted) send({ type: 'failed', jobId: next.job.jobId, kind: 'cancelled', message: 'cancelled' });
      else if (next.job.type === 'sweep') {
        const job = next.job;
        await sweep(job, () => modelFor(job.modelDir, parseProviders(job.providers.join(','))), next.controller, send);
      } else await run(next.job, next.controller, send);
      controllers.delete(next.job.jobId);
    }
    running = false;
  };
  onMessage((message) => {
    switch (message.type) {
      case 'run':
      case 'sweep': {
        const controller = new AbortController();
        controllers.set(message.jobId, controller);
        queue.push({ job: message, controller });
        void pump();
        break;
      }
      case 'cancel':
        controllers.get(message.jobId)?.abort();
        break;
      case 'validate':
        modelFor(message.modelDir, parseProviders(message.providers.join(',')))
          .then((m) => send({ type: 'validated', requestId: message.requestId, ok: true, width: m.image.width, height: m.image.height }))
          .catch((error: Error) => send({ type: 'validated', requestId: message.requestId, ok: false, message: error.message }));
        break;
    }
  });
  send({ type: 'ready' });
}

startEngineProcess();
