// The node's filesystem as seen from the installer pod: every host path is resolved under the
// host root. Absolute symlinks on the host point at host paths, so they are re-rooted here
// instead of being followed by the kernel into the pod's own filesystem.
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmdirSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, posix } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export interface HostStat {
  mode: number; // permission bits only
  isFile: boolean;
  isDirectory: boolean;
}

export class HostFs {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The pod-side path of a host path, with symlinks re-rooted. */
  resolve(hostPath: string): string {
    return join(this.root, this.realHostPath(hostPath));
  }

  /** Follows symlinks of the last component (up to 40 hops) and keeps the result a host path. */
  realHostPath(hostPath: string): string {
    let current = posix.normalize(hostPath);
    for (let hops = 0; hops < 40; hops++) {
      let st: Stats;
      try {
        st = lstatSync(join(this.root, current));
      } catch {
        return current;
      }
      if (!st.isSymbolicLink()) return current;
      const target = readlinkSync(join(this.root, current));
      current = isAbsolute(target) ? posix.normalize(target) : posix.join(posix.dirname(current), target);
    }
    return current;
  }

  read(hostPath: string): Buffer | undefined {
    try {
      return readFileSync(this.resolve(hostPath));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  readText(hostPath: string): string | undefined {
    return this.read(hostPath)?.toString('utf8');
  }

  stat(hostPath: string): HostStat | undefined {
    try {
      const st = statSync(this.resolve(hostPath));
      return { mode: st.mode & 0o7777, isFile: st.isFile(), isDirectory: st.isDirectory() };
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
      lstatSync(join(this.root, hostPath));
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

  /** Atomic replace (temp file in the same directory, fsync, rename) with the given mode. */
  async write(hostPath: string, content: Buffer, mode: number): Promise<void> {
    await writeFileAtomic(this.resolve(hostPath), content, { mode, fsync: true });
  }

  remove(hostPath: string): void {
    try {
      unlinkSync(this.resolve(hostPath));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  /** Creates missing directories (0755) and returns the ones it created, outermost first. */
  mkdirs(hostPath: string): string[] {
    const missing: string[] = [];
    for (let dir = posix.normalize(hostPath); dir !== '/' && !this.exists(dir); dir = posix.dirname(dir)) missing.unshift(dir);
    for (const dir of missing) {
      mkdirSync(this.resolve(dir));
      chmodSync(this.resolve(dir), 0o755); // the process umask may be 077
    }
    return missing;
  }

  /** Removes a directory if it is empty; true when removed or already gone. */
  rmdirIfEmpty(hostPath: string): boolean {
    try {
      rmdirSync(this.resolve(hostPath));
      return true;
    } catch (error) {
      return isMissing(error);
    }
  }

  parentOf(hostPath: string): string {
    return dirname(hostPath);
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
