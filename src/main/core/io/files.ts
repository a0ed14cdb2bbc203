import { type Stats, closeSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes to a temporary file beside the target, then renames it into place: a reader (or a
 * crash) never sees a partial file.
 */
export function writeFileAtomic(target: string, bytes: Uint8Array | string): void {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** A file that cannot be read as asked: not a regular file, too large, or unreadable. */
export class InputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputFileError';
  }
}

/**
 * Reads a regular file of at most `maxBytes`, refusing anything else before reading a byte:
 * a device (/dev/zero), a FIFO or socket would block or never end, a folder cannot be read,
 * and a huge file would exhaust memory. Symbolic links are followed (stat, not lstat); the
 * size is checked again after the read, in case the file grew meanwhile.
 * `what` names the file in messages ("--init-image photo.png").
 */
export function readFileBounded(file: string, maxBytes: number, what: string = file): Buffer {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(code === 'ENOENT' ? `${what}: no such file` : code === 'EACCES' ? `${what}: permission denied` : `${what}: cannot be read (${code ?? 'error'})`);
  }
  if (stats.isDirectory()) throw new InputFileError(`${what}: is a folder, not a file`);
  if (!stats.isFile()) throw new InputFileError(`${what}: is not a regular file (a device, pipe or socket)`);
  if (stats.size > maxBytes) throw new InputFileError(`${what}: ${stats.size} bytes is more than the ${maxBytes} this accepts`);
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > stats.size) throw new InputFileError(`${what}: grew while being read`);
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}
