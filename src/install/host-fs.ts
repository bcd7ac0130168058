// The node's filesystem as seen from the installer pod. Every host path resolves under the host
// root as a chroot would: each component's symlink is followed, absolute targets start again at
// the host root, `..` stops at it. So no path on the node can point the installer outside the
// host root, nor into the pod's own filesystem. Writes also refuse directories another user could
// use to redirect them (the kubelet runs what we write as root), and every write goes through the
// provider's own primitives (src/fs): the directory is checked and held open (TrustedDir), each
// entry is reached inside it, new files are created O_EXCL|O_NOFOLLOW and renamed over the name,
// so no write follows a symbolic link and what replaces a file is root's, whoever owned it
// before. Large files are hashed and copied by streaming, never read whole.
import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, renameSync, rmSync, rmdirSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { replaceFileAtomically } from '../fs/atomic-write.ts';
import { readRegularFile, UnsafeFileError } from '../fs/regular-file.ts';
import { openTrustedDir, UntrustedDirError, type TrustedDir } from '../fs/trusted-dir.ts';
import { ProviderError } from '../errors.ts';

export interface HostStat {
  mode: number; // permission bits only
  uid: number;
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

  /** The first `bytes` bytes of a regular file (fewer when it is shorter); undefined when missing. */
  head(hostPath: string, bytes: number): Buffer | undefined {
    let fd: number;
    try {
      fd = openSync(this.resolve(hostPath), constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      if (!fstatSync(fd).isFile()) return Buffer.alloc(0);
      const buffer = Buffer.alloc(bytes);
      return buffer.subarray(0, readSync(fd, buffer, 0, bytes, 0));
    } finally {
      closeSync(fd);
    }
  }

  readText(hostPath: string): string | undefined {
    return this.read(hostPath)?.toString('utf8');
  }

  stat(hostPath: string): HostStat | undefined {
    try {
      const st = statSync(this.resolve(hostPath));
      return { mode: st.mode & 0o7777, uid: st.uid, size: st.size, isFile: st.isFile(), isDirectory: st.isDirectory() };
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
    this.inParent(hostPath, (dir, name) => replaceFileAtomically(dir, name, content, mode));
  }

  /**
   * Atomic replace from a pod-side file, streamed through a 1 MiB buffer and hashed as it is
   * copied: the copy must have `expected` size and digest, so what the journal records is what
   * the node has.
   */
  copyIn(source: string, hostPath: string, mode: number, expected: Digest): void {
    this.inParent(hostPath, (dir, name) => {
      const temp = tempName(name);
      try {
        copyChecked(source, dir.at(temp), mode, expected, hostPath);
        renameSync(dir.at(temp), dir.at(name));
      } catch (error) {
        rmSync(dir.at(temp), { force: true });
        throw error;
      }
    });
  }

  /** Creates a new file holding `text`; false when the name already exists (even as a symlink). */
  createExclusive(hostPath: string, text: string, mode: number): boolean {
    return this.inParent(hostPath, (dir, name) => {
      let fd: number;
      try {
        fd = openSync(dir.at(name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      }
      try {
        writeSync(fd, text);
        fchmodSync(fd, mode);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return true;
    });
  }

  remove(hostPath: string): void {
    try {
      this.inParent(hostPath, (dir, name) => unlinkSync(dir.at(name)));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** Removes a directory and everything in it (symlinks inside are removed, never followed). */
  removeTree(hostPath: string): void {
    try {
      this.inParent(hostPath, (dir, name) => rmSync(dir.at(name), { recursive: true, force: true }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** Renames an entry within one directory (no-op when `from` is missing); replaces an empty directory or a file at `to`. */
  renameWithin(hostDir: string, from: string, to: string): void {
    const dir = this.openDir(hostDir);
    try {
      renameSync(dir.at(from), dir.at(to));
    } catch (error) {
      if (!isMissing(error)) throw error;
    } finally {
      dir.close();
    }
  }

  /** The directories mkdirs(hostPath) would create (host paths), outermost first. */
  missingDirs(hostPath: string): string[] {
    const missing: string[] = [];
    for (let dir = this.realHostPath(hostPath); dir !== '/' && !this.exists(dir); dir = posix.dirname(dir)) missing.unshift(dir);
    return missing;
  }

  /** Creates missing directories (`mode`, default 0755) and returns the ones it created (host paths), outermost first. */
  mkdirs(hostPath: string, mode = 0o755): string[] {
    const missing = this.missingDirs(hostPath);
    for (const dir of missing) this.inParent(dir, (parent, name) => makeDir(parent, name, mode));
    return missing;
  }

  /** Removes a directory if it is empty; true when removed or already gone. */
  rmdirIfEmpty(hostPath: string): boolean {
    try {
      this.inParent(hostPath, (dir, name) => rmdirSync(dir.at(name)));
      return true;
    } catch (error) {
      return isMissing(error);
    }
  }

  /**
   * The host directory held open for writing in it: it and every directory above it (on the node
   * and in the pod) checked to be root's and not writable by others. Entries are reached through
   * the returned TrustedDir only; the caller closes it.
   */
  openDir(hostDir: string): TrustedDir {
    const real = this.realHostPath(hostDir);
    this.assertWritable(real);
    try {
      return openTrustedDir(join(this.root, real), { owner: 'root-or-self', mode: 'not-writable-by-others', create: false });
    } catch (error) {
      if (error instanceof UntrustedDirError) {
        if (error.missing) throw Object.assign(new Error(`${real} does not exist`), { code: 'ENOENT' });
        throw new ProviderError('install', `${real} ${error.reason}; make it root's and not writable by group or others, then re-run`);
      }
      throw error;
    }
  }

  /** Runs `body` with the checked, open parent directory of `hostPath` and the entry's name in it. */
  private inParent<T>(hostPath: string, body: (dir: TrustedDir, name: string) => T): T {
    const real = this.realHostPath(hostPath);
    const dir = this.openDir(posix.dirname(real));
    try {
      return body(dir, posix.basename(real));
    } finally {
      dir.close();
    }
  }

  parentOf(hostPath: string): string {
    return posix.dirname(hostPath);
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

/** A temp name beside `name`, never a name the installer or the kubelet uses. */
export function tempName(name: string): string {
  return `.${name}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
}

/** Makes directory `name` in `parent` with `mode` (whatever the umask), without following a symlink. */
export function makeDir(parent: TrustedDir, name: string, mode: number): void {
  mkdirSync(parent.at(name), 0o700);
  const fd = openSync(parent.at(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies regular file `source` (pod side) to the new file `target` (created O_EXCL|O_NOFOLLOW)
 * through one 1 MiB buffer, hashing as it goes; fails unless size and sha256 are `expected`.
 * `label` names the file in messages. The copy is fsync'd and has `mode`.
 */
export function copyChecked(source: string, target: string, mode: number, expected: Digest, label: string): void {
  const input = openSync(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!fstatSync(input).isFile()) throw new ProviderError('install', `${source} is not a regular file`);
    const output = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const hash = createHash('sha256');
      const buffer = Buffer.allocUnsafe(CHUNK);
      let size = 0;
      for (let n = readSync(input, buffer); n > 0; n = readSync(input, buffer)) {
        hash.update(buffer.subarray(0, n));
        for (let written = 0; written < n; ) written += writeSync(output, buffer, written, n - written);
        size += n;
        if (size > expected.size) break;
      }
      const sha256 = hash.digest('hex');
      if (size !== expected.size || sha256 !== expected.sha256) {
        throw new ProviderError('install', `copying ${source} to ${label} gave ${size > expected.size ? `more than ${expected.size}` : size} bytes with sha256 ${sha256.slice(0, 12)}, expected ${expected.size} bytes with ${expected.sha256.slice(0, 12)}: the source is damaged or changed while it was copied`);
      }
      fchmodSync(output, mode);
      fsyncSync(output);
    } finally {
      closeSync(output);
    }
  } finally {
    closeSync(input);
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
