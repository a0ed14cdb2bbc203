/**
 * The one folder that holds all user data (gallery, settings, imported model list):
 * SPLIT_STUDIO_HOME when set, else the platform's user-data folder (the same place
 * Electron's app.getPath('userData') gives for an app named "Split Studio").
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = env.SPLIT_STUDIO_HOME?.trim();
  if (home) return path.resolve(home);
  const name = 'Split Studio';
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), name);
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', name);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), name);
}

export function ensureDataDir(dir = dataDir()): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
