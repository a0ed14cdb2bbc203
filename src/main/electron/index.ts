/**
 * The thin Electron entry: one locked-down window, the engine in a utilityProcess, the
 * studio's operations over allow-listed IPC. The only file (with its utilityProcess
 * launcher below) that imports 'electron'; everything it wires is plain Node.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, session, shell, utilityProcess } from 'electron';
import type { EngineLauncher } from '../studio/engineHost';
import type { FromEngine } from '../engineProcess/messages';
import { EVENT_CHANNEL, type IpcMainLike, registerStudioIpc } from './ipc';
import { createStudioApp, engineEntry } from '../studio/app';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererIndex = path.join(here, '../renderer/index.html');
let window: BrowserWindow | null = null;

const utilityLauncher: EngineLauncher = () => {
  const child = utilityProcess.fork(engineEntry(here), [], { serviceName: 'Split Studio engine', stdio: 'inherit' });
  return {
    send: (m) => child.postMessage(m),
    onMessage: (l) => void child.on('message', (m) => l(m as FromEngine)),
    onExit: (l) => void child.on('exit', (code) => l(code)),
    kill: () => void child.kill(),
  };
};

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Split Studio',
    backgroundColor: '#15171c',
    webPreferences: {
      // One CommonJS file: a sandboxed renderer runs no ES-module preload (electron.vite.config.ts).
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // No middle-click: it could open links in new windows past the handlers below.
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.on('will-attach-webview', (event) => event.preventDefault());
  void win.loadFile(rendererIndex);
  return win;
}

app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  let studio: ReturnType<typeof createStudioApp>;
  try {
    studio = createStudioApp({
      launcher: utilityLauncher,
      emit: (event, payload) => window?.webContents.send(EVENT_CHANNEL, { event, payload }),
      dataDir: process.env.SPLIT_STUDIO_HOME ? undefined : app.getPath('userData'),
      showItemInFolder: (file) => shell.showItemInFolder(file),
    });
  } catch (error) {
    // A gallery that cannot be trusted (DatabaseDamagedError: emptied or damaged outside the
    // app) is refused rather than replaced; say so in a window of its own instead of dying
    // silently, and leave every file as it is. The message names `split-studio gallery recover`.
    dialog.showErrorBox('Split Studio cannot start', (error as Error).message);
    app.exit(1);
    return;
  }
  const rendererUrl = pathToFileURL(rendererIndex).href;
  registerStudioIpc(ipcMain as unknown as IpcMainLike, studio.service, (sender, frameUrl) => window !== null && sender === window.webContents && frameUrl === rendererUrl);
  window = createWindow();
  window.on('closed', () => (window = null));
  app.on('before-quit', () => studio.close());
});

app.on('window-all-closed', () => app.quit());
