// The node's filesystem as seen from the installer pod. Every host path resolves under the host
// root as a chroot would: each component's symlink is followed, absolute targets start again at
// the host root, `..` stops at it. So no path on the node can point the installer outside the
// host root, nor into the pod's own filesystem. Writes also refuse directories another user could
// use to redirect them (the kubelet runs what we write as root). Large files are hashed and copied
// by streaming, never read whole.
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, closeSync, constants, copyFileSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import { ProviderError } from '../errors.ts';

export interface HostStat {
  mode: number; // permission bits only
  size: number;
  isFile: boolean;
  isDirectory: boolean;
}

export interface Digest {
  sha256: string;
  size: number;
}

const MAX_SYMLINKS = 40; // as the kernel's ELOOP limit
const MAX_TEXT_BYTES = 4 * 1024 * 1024; // configs and unit files; binaries are only hashed/copied
const CHUNK = 1024 * 1024;

export class HostFs {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The pod-side path of a host path. */
  resolve(hostPath: string): string {
    return join(this.root, this.realHostPath(hostPath));
  }

  /** The host path with every symlink resolved; missing components are kept as written. */
  realHostPath(hostPath: string): string {
    return this.walk(hostPath).real;
  }

  /** Resolves component by component, and lists the directories looked in on the way. */
  private walk(hostPath: string): { real: string; searched: string[] } {
    const pending = hostPath.split('/');
    const done: string[] = [];
    const searched = new Set<string>();
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        done.pop();
        continue;
      }
      searched.add(`/${done.join('/')}`);
      const here = join(this.root, ...done, part);
      let st: Stats | undefined;
      try {
        st = lstatSync(here);
      } catch {
        st = undefined;
      }
      if (st?.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new ProviderError('install', `${hostPath}: too many levels of symbolic links on the node`);
        const target = readlinkSync(here);
        if (target.startsWith('/')) done.length = 0;
        pending.unshift(...target.split('/'));
      } else done.push(part);
    }
    return { real: `/${done.join('/')}`, searched: [...searched] };
  }

  /** A regular file's bytes, undefined when missing; FIFOs, devices and huge files are refused. */
  read(hostPath: string): Buffer | undefined {
    try {
      return readRegularFile(this.resolve(hostPath), MAX_TEXT_BYTES, { owner: 'anyone', noFollow: true });
    } catch (error) {
      if (isMissing(error)) return undefined;
      if (error instanceof UnsafeFileError) throw new ProviderError('install', `${hostPath} ${error.reason}; replace it with a configuration file or remove it, then re-run`);
      throw error;
    }
  }

  readText(hostPath: string): string | undefined {
    return this.read(hostPath)?.toString('utf8');
  }

  stat(hostPath: string): HostStat | undefined {
    try {
      const st = statSync(this.resolve(hostPath));
      return { mode: st.mode & 0o7777, size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory() };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  exists(hostPath: string): boolean {
    return this.stat(hostPath) !== undefined;
  }

  /** True when the path itself exists, even as a dangling symlink (systemd's enablement links). */
  entryExists(hostPath: string): boolean {
    try {
      lstatSync(join(this.resolve(posix.dirname(hostPath)), posix.basename(hostPath)));
      return true;
    } catch {
      return false;
    }
  }

  list(hostPath: string): string[] {
    try {
      return readdirSync(this.resolve(hostPath)).sort();
    } catch {
      return [];
    }
  }

  /** sha256 and size of a host file, streamed; undefined when missing. */
  digest(hostPath: string): Digest | undefined {
    const st = this.stat(hostPath);
    if (st === undefined) return undefined;
    if (!st.isFile) throw new ProviderError('install', `${hostPath} is not a regular file; replace it with one or remove it, then re-run`);
    return digestFile(this.resolve(hostPath));
  }

  /** Atomic replace (temp file in the same directory, fsync, rename) with the given mode. */
  async write(hostPath: string, content: Buffer, mode: number): Promise<void> {
    await writeFileAtomic(this.writablePath(hostPath), content, { mode, fsync: true });
  }

  /**
   * Atomic replace from a pod-side file, copied by the kernel (no file-sized buffer); the copy
   * must have `expected` digest, so what the journal records is what the node has.
   */
  copyIn(source: string, hostPath: string, mode: number, expected: Digest): void {
    const target = this.writablePath(hostPath);
    const temp = `${posix.dirname(target)}/.${posix.basename(target)}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      copyFileSync(source, temp, constants.COPYFILE_EXCL);
      chmodSync(temp, mode);
      const fd = openSync(temp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (digestFile(temp).sha256 !== expected.sha256) throw new ProviderError('install', `${source} changed while it was copied to ${hostPath}`);
      renameSync(temp, target);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
  }

  /** Creates a new file holding `text`; false when it already exists. */
  createExclusive(hostPath: string, text: string, mode: number): boolean {
    let fd: number;
    try {
      fd = openSync(this.writablePath(hostPath), 'wx', mode);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  remove(hostPath: string): void {
    try {
      unlinkSync(this.writablePath(hostPath));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** The directories mkdirs(hostPath) would create (host paths), outermost first. */
  missingDirs(hostPath: string): string[] {
    const missing: string[] = [];
    for (let dir = this.realHostPath(hostPath); dir !== '/' && !this.exists(dir); dir = posix.dirname(dir)) missing.unshift(dir);
    return missing;
  }

  /** Creates missing directories (0755) and returns the ones it created (host paths), outermost first. */
  mkdirs(hostPath: string): string[] {
    const missing = this.missingDirs(hostPath);
    if (missing.length > 0) this.assertWritable(posix.dirname(missing[0] as string));
    for (const dir of missing) {
      mkdirSync(join(this.root, dir));
      chmodSync(join(this.root, dir), 0o755); // the process umask may be 077
    }
    return missing;
  }

  /** Removes a directory if it is empty; true when removed or already gone. */
  rmdirIfEmpty(hostPath: string): boolean {
    try {
      rmdirSync(this.writablePath(hostPath));
      return true;
    } catch (error) {
      return isMissing(error);
    }
  }

  parentOf(hostPath: string): string {
    return posix.dirname(hostPath);
  }

  /** The pod-side path to change `hostPath` through, once its directories are safe to write in. */
  private writablePath(hostPath: string): string {
    const { real } = this.walk(hostPath);
    this.assertWritable(posix.dirname(real));
    return join(this.root, real);
  }

  /**
   * Every directory the path to `hostDir` goes through must be writable by root alone: another
   * user who can write in one could swap a symlink or a file between our check and the kubelet
   * running it as root.
   */
  assertWritable(hostDir: string): void {
    const uid = process.geteuid?.() ?? 0;
    for (const dir of this.walk(hostDir).searched.concat(this.realHostPath(hostDir))) {
      let st: Stats;
      try {
        st = lstatSync(join(this.root, dir));
      } catch {
        continue; // created by us later
      }
      if (!st.isDirectory()) continue;
      if (st.uid !== 0 && st.uid !== uid) throw new ProviderError('install', `${dir} is owned by uid ${st.uid}, who could redirect what the installer writes there for the kubelet to run as root; make it root's (chown root: ${dir}) and re-run`);
      if ((st.mode & 0o022) !== 0) throw new ProviderError('install', `${dir} is writable by group or others (mode 0${(st.mode & 0o7777).toString(8)}), who could redirect what the installer writes there; chmod go-w ${dir} and re-run`);
    }
  }
}

/** sha256 and size of a pod-side file, read in 1 MiB chunks. */
export function digestFile(path: string): Digest {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, n));
      size += n;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
