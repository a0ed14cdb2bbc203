/**
 * Wiring shared by the Electron entry and served mode: data folder, model registry, engine
 * host, gallery, the Lab's saved sweeps and the studio service.
 */
import path from 'node:path';
import { ensureDataDir } from '../core/dataDir';
import { GalleryStore } from '../core/gallery/store';
import { SweepStore } from '../core/lab/store';
import { EngineHost, type EngineLauncher } from './engineHost';
import { ModelRegistry } from '../core/models/registry';
import { defaultProviders } from '../core/runtime/sessions';
import type { EventName, StudioEvents } from '../../shared/contract';
import { type StudioService, createStudioService } from './service';

export interface StudioApp {
  dataDir: string;
  service: StudioService;
  host: EngineHost;
  gallery: GalleryStore;
  /** The Lab's saved sweeps: lab.sqlite beside gallery.sqlite. */
  sweeps: SweepStore;
  close(): void;
}

export function createStudioApp(options: {
  launcher: EngineLauncher;
  emit<E extends EventName>(event: E, payload: StudioEvents[E]): void;
  dataDir?: string;
  providers?: string[];
  /** The desktop app's "show in folder" (Electron's shell); absent in served mode. */
  showItemInFolder?: (file: string) => void;
}): StudioApp {
  const dataDir = ensureDataDir(options.dataDir);
  // The main process must answer from the first moment: files and rows are compared after
  // open, in slices (a 100,000-image gallery opens in ms instead of most of a second).
  const gallery = GalleryStore.open(dataDir, { reconcile: 'background' });
  gallery.reconciled.catch((error: unknown) => console.error(`split-studio: gallery reconcile failed: ${(error as Error).message}`));
  let sweeps: SweepStore;
  try {
    sweeps = SweepStore.open(dataDir);
  } catch (error) {
    gallery.close();
    throw error;
  }
  const host = new EngineHost(options.launcher);
  const service = createStudioService({
    registry: new ModelRegistry(dataDir),
    host,
    gallery,
    sweeps,
    emit: options.emit,
    providers: options.providers ?? defaultProviders(),
    showItemInFolder: options.showItemInFolder,
  });
  return {
    dataDir,
    service,
    host,
    gallery,
    sweeps,
    close() {
      host.stop();
      gallery.close();
      sweeps.close();
    },
  };
}

/** The engine process's built entry, beside this bundle in out/main. */
export const engineEntry = (outMainDir: string) => path.join(outMainDir, 'engineProcess.js');
