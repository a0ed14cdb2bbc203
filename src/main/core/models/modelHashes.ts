/**
 * Content hashes of a model folder's network files, for the gallery's fingerprint (what made an
 * image besides its settings). Shared by the engine process (the studio) and the CLI so that
 * both record the same hashes for the same folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The files hashed: ONNX graphs and their external data. */
const NETWORK_FILE_RE = /\.(onnx|pb|onnx_data)$/;

/** The file whose hash the gallery shows as the model's (A1111's "Model hash" is its first 10 hex digits). */
export const MAIN_MODEL_FILE = 'unet/model.onnx';

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** sha256 of every .onnx (and external data) file one level down in a model folder: "component/file" -> hex. */
async function hashModelFolder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const components = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  for (const component of components) {
    for (const file of readdirSync(path.join(dir, component)).sort()) {
      const full = path.join(dir, component, file);
      if (NETWORK_FILE_RE.test(file) && statSync(full).isFile()) out[`${component}/${file}`] = await sha256File(full);
    }
  }
  return out;
}

const cache = new Map<string, Promise<Record<string, string>>>();

/** hashModelFolder, cached per folder for the life of the process (a failure is not cached). */
export function modelHashes(dir: string): Promise<Record<string, string>> {
  const key = path.resolve(dir);
  let pending = cache.get(key);
  if (!pending) {
    pending = hashModelFolder(key);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}

/** The short hash the gallery row and the A1111 `Model hash` field carry: 10 hex digits of the UNet's sha256. */
export function shortModelHash(hashes: Record<string, string>): string {
  return (Object.hasOwn(hashes, MAIN_MODEL_FILE) ? hashes[MAIN_MODEL_FILE] : '').slice(0, 10);
}
