/** Atomic file and directory writes: readers see the old content or the new one, never a mix.
 * A file is written to a temporary sibling (same directory, so the rename stays on one file
 * system), fsynced, then renamed over the target; the directory is fsynced so the rename itself
 * survives a crash. On any failure the temporary is removed and the target is left untouched. */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

export type FileContent = string | Uint8Array;

/** A unique sibling name for `target`, hidden so directory listings stay clean. */
function tempSibling(target: string, tag: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // See fsyncDirSync.
  } finally {
    await handle?.close();
  }
}

function writeAndSyncSync(file: string, data: FileContent): void {
  const fd = fs.openSync(file, 'wx', 0o644);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

async function writeAndSync(file: string, data: FileContent): Promise<void> {
  const handle = await fsp.open(file, 'wx', 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write `data` to `target` atomically (temp file in the same directory, fsync, rename). */
export function writeFileAtomicSync(target: string, data: FileContent): void {
  const tmp = tempSibling(target, 'tmp');
  try {
    writeAndSyncSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(path.dirname(target));
}

/** Promise form of `writeFileAtomicSync`. */
export async function writeFileAtomic(target: string, data: FileContent): Promise<void> {
  const tmp = tempSibling(target, 'tmp');
  try {
    await writeAndSync(tmp, data);
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Checks a file name for `writeDirAtomic`: plain names only, no sub-paths. */
function checkEntryName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.includes('\0')) {
    throw new Error(`invalid file name '${name}' for an atomic directory write (plain names only)`);
  }
}

/** Write a directory of files atomically: all files go into a temporary sibling directory, each
 * fsynced, then the directory is renamed into place. An existing target is moved aside first and
 * removed after the swap (POSIX cannot rename over a non-empty directory), so a crash between the
 * two renames leaves the previous version under a hidden `.NAME.old-*` sibling rather than a
 * partial directory. */
export function writeDirAtomicSync(target: string, files: Readonly<Record<string, FileContent>>): void {
  const parent = path.dirname(target);
  const tmp = tempSibling(target, 'tmp');
  try {
    fs.mkdirSync(tmp);
    for (const [name, data] of Object.entries(files)) {
      checkEntryName(name);
      writeAndSyncSync(path.join(tmp, name), data);
    }
    fsyncDirSync(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | undefined;
  try {
    if (fs.existsSync(target)) {
      old = tempSibling(target, 'old');
      fs.renameSync(target, old);
    }
    fs.renameSync(tmp, target);
  } catch (err) {
    if (old !== undefined && !fs.existsSync(target)) fs.renameSync(old, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fsyncDirSync(parent);
  if (old !== undefined) fs.rmSync(old, { recursive: true, force: true });
}

/** Promise form of `writeDirAtomicSync`. */
export async function writeDirAtomic(target: string, files: Readonly<Record<string, FileContent>>): Promise<void> {
  const parent = path.dirname(target);
  const tmp = tempSibling(target, 'tmp');
  try {
    await fsp.mkdir(tmp);
    for (const [name, data] of Object.entries(files)) {
      checkEntryName(name);
      await writeAndSync(path.join(tmp, name), data);
    }
    await fsyncDir(tmp);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | undefined;
  try {
    if (fs.existsSync(target)) {
      old = tempSibling(target, 'old');
      await fsp.rename(target, old);
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    if (old !== undefined && !fs.existsSync(target)) await fsp.rename(old, target);
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await fsyncDir(parent);
  if (old !== undefined) await fsp.rm(old, { recursive: true, force: true });
}
