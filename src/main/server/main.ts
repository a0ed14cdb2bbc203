/** `npm start -- --serve [--port N]`: the studio served to a browser on 127.0.0.1. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeLauncher } from '../studio/engineHost';
import { createStudioApp, engineEntry } from '../studio/app';
import type { StudioService } from '../studio/service';
import { type ServedStudio, serveStudio } from './serve';

const here = path.dirname(fileURLToPath(import.meta.url));

async function startServedStudio(options: { port?: number; dataDir?: string; providers?: string[] } = {}) {
  let server: ServedStudio | null = null;
  const app = createStudioApp({
    launcher: nodeLauncher(engineEntry(here)),
    emit: (event, payload) => server?.broadcast(event, payload),
    dataDir: options.dataDir,
    providers: options.providers,
  });
  const service: StudioService = app.service;
  server = await serveStudio({ renderDir: path.join(here, '../renderer'), service: () => service, port: options.port });
  return { app, server };
}

export async function serveFromCommandLine(args: string[]): Promise<void> {
  const portIndex = args.indexOf('--port');
  const port = portIndex >= 0 ? Number(args[portIndex + 1]) : 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write('split-studio: --port must be a whole number from 0 to 65535\n');
    process.exit(2);
  }
  try {
    const { app, server } = await startServedStudio({ port });
    process.stdout.write(`Split Studio data folder: ${app.dataDir}\nOpen ${server.url}\n`);
    const stop = () => {
      app.close();
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (error) {
    process.stderr.write(`split-studio: ${(error as Error).message}\n`);
    process.exit((error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 2 : 1);
  }
}
