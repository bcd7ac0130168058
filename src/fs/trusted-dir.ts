// Opening a directory so that nobody else can redirect what the provider does in it.
//
// The provider runs as root; a directory it writes tokens, counters or logs into is only safe if no
// other user can swap it, or any directory above it, for something of theirs between our checks
// and our writes. So, as OpenSSH's StrictModes does for ~/.ssh, a directory is trusted only if it
// and every directory above it up to `/` belongs to root or to us and cannot be written by others,
// except a root-owned (or our own) sticky directory such as /tmp: there others may create entries
// but cannot rename or remove ours, and an entry they created is theirs, so it is refused on the
// next step. A symbolic link on the way is followed only if root or we own it.
//
// Node has no openat(2). Each step opens `/proc/self/fd/<parent>/<name>` with O_NOFOLLOW: the
// kernel resolves it inside the directory we already hold open and checked, whatever happens to
// its path meanwhile. The result is a descriptor of the checked directory itself, and `at(name)`
// gives a path that reaches an entry inside it the same way, for every later open, rename or
// mkdir. Nothing is resolved twice by name.
//
// Without /proc (a chroot, a minimal sandbox) the same walk is made by path, top down. That is
// still sound for the threat we check against: each step is taken only inside a directory that no
// other user can write (or a sticky one, where they cannot move our entries), so none of them can
// swap a component between our check and our use; only root or we could.
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readlinkSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** The sticky bit: others may create entries, but rename or remove only their own. */
const STICKY = 0o1000;
/** As the kernel's own limit on symbolic links followed in one lookup. */
const MAX_SYMLINKS = 40;

export interface DirPolicy {
  /** Who may own the directory itself (the directories above it always belong to root or us). */
  owner: 'self' | 'root-or-self' | 'anyone';
  /** `private`: no group or other bits at all (0700). `not-writable-by-others`: no group or other
   *  write bit, unless sticky and owned by root or us. */
  mode: 'private' | 'not-writable-by-others';
  /** Create missing directories (0700) on the way, each inside its checked parent. */
  create: boolean;
  /**
   * Accept directories (on the way and the target) that their group may write, as Ubuntu's
   * root:syslog 0775 /var/log. Only where nothing secret is written (the log file), and only
   * because a group is set up by root: others-writable is still refused unless sticky.
   */
  groupMayWrite?: boolean;
}

/** Why a directory is not trusted. `missing` when a directory on the way does not exist. */
export class UntrustedDirError extends Error {
  readonly reason: string;
  readonly missing: boolean;
  constructor(reason: string, missing = false) {
    super(reason);
    this.name = 'UntrustedDirError';
    this.reason = reason;
    this.missing = missing;
  }
}

/** An open, checked directory. Entries are reached through `at(name)`, never through `path`. */
export class TrustedDir {
  /** The path it was opened by, for messages only. */
  readonly path: string;
  readonly fd: number;
  /** The checked real path, when there is no /proc to reach the directory through its descriptor. */
  readonly realPath: string | undefined;
  private readonly base: string;

  constructor(path: string, fd: number, realPath?: string) {
    this.path = path;
    this.fd = fd;
    this.realPath = realPath;
    this.base = realPath ?? `/proc/self/fd/${fd}`;
  }

  /** A path to `name` inside this very directory, valid while the descriptor is open. */
  at(name: string): string {
    if (name === '' || name === '..' || name.includes('/')) throw new Error(`not a plain entry name: ${JSON.stringify(name)}`);
    return `${this.base}/${name}`;
  }

  /** The directory itself (for readdir). */
  self(): string {
    return this.base;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}

function ownerTrusted(uid: number): boolean {
  return uid === 0 || uid === process.geteuid!();
}

function mode(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(3, '0');
}

/** Who besides the owner can write to a directory that is not sticky (sticky: root's or ours). */
function writableByOthers(st: Stats, policy: DirPolicy): string | undefined {
  const mask = policy.groupMayWrite ? 0o002 : 0o022;
  if ((st.mode & mask) === 0 || ((st.mode & STICKY) !== 0 && ownerTrusted(st.uid))) return undefined;
  return `writable by ${(st.mode & 0o002) !== 0 ? 'others' : 'its group'} (mode ${mode(st)})`;
}

/** A directory on the way to the one we want: root's or ours, not writable by others unless sticky. */
function checkAbove(st: Stats, path: string, policy: DirPolicy): void {
  if (!ownerTrusted(st.uid)) throw new UntrustedDirError(`is inside ${path}, which is owned by uid ${st.uid} (not root or us): that user could swap what is in it`);
  const writable = writableByOthers(st, policy);
  if (writable) throw new UntrustedDirError(`is inside ${path}, which is ${writable}: others could swap what is in it`);
}

function checkTarget(st: Stats, policy: DirPolicy): void {
  const euid = process.geteuid!();
  if (policy.owner === 'self' && st.uid !== euid) throw new UntrustedDirError(`is owned by uid ${st.uid}, not by us (uid ${euid})`);
  if (policy.owner === 'root-or-self' && !ownerTrusted(st.uid)) throw new UntrustedDirError(`is owned by uid ${st.uid}, not by root or us (uid ${euid})`);
  if (policy.mode === 'private') {
    if ((st.mode & 0o077) !== 0) throw new UntrustedDirError(`has mode ${(st.mode & 0o777).toString(8)}, expected 700`);
    return;
  }
  const writable = writableByOthers(st, policy);
  if (writable) throw new UntrustedDirError(`is ${writable}`);
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Opens `path` (absolute, or relative to the working directory; `..` in it is resolved by name
 * first, as path.resolve does) under `policy`; throws UntrustedDirError.
 */
export function openTrustedDir(path: string, policy: DirPolicy): TrustedDir {
  const pending = components(resolve(path));
  let { fd, viaProc } = openRoot();
  let real = '/';
  const inside = (dirFd: number, dirPath: string, name: string): string => (viaProc ? `/proc/self/fd/${dirFd}/${name}` : `${dirPath === '/' ? '' : dirPath}/${name}`);
  let symlinks = 0;
  try {
    const rootStat = fstatSync(fd);
    if (pending.length === 0) checkTarget(rootStat, policy);
    else checkAbove(rootStat, real, policy);
    while (pending.length > 0) {
      const name = pending.shift()!;
      const last = pending.length === 0;
      const entry = inside(fd, real, name);
      const here = name === '..' ? parentOf(real) : join(real, name);
      let next: number;
      try {
        next = openDirEntry(entry, last ? undefined : here, policy.create && name !== '..');
      } catch (error) {
        if (!(error instanceof SymlinkFound)) throw error;
        if (!ownerTrusted(error.uid)) throw new UntrustedDirError(here === resolve(path) ? `is a symbolic link owned by uid ${error.uid}` : `goes through ${here}, a symbolic link owned by uid ${error.uid}`);
        if (++symlinks > MAX_SYMLINKS) throw new UntrustedDirError(`goes through too many symbolic links (at ${here})`);
        const target = readlinkSync(entry);
        pending.unshift(...components(target));
        if (target.startsWith('/')) {
          closeSync(fd);
          ({ fd, viaProc } = openRoot());
          real = '/';
          if (pending.length === 0) checkTarget(fstatSync(fd), policy);
        }
        continue;
      }
      closeSync(fd);
      fd = next;
      real = here;
      const st = fstatSync(fd);
      if (last) checkTarget(st, policy);
      else checkAbove(st, real, policy);
    }
    return new TrustedDir(path, fd, viaProc ? undefined : real);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Opens (creating it when asked) a directory entry of a trusted directory, under `policy`. */
export function openTrustedSubdir(parent: TrustedDir, name: string, policy: DirPolicy): TrustedDir {
  const path = join(parent.path, name);
  let fd: number;
  try {
    fd = openDirEntry(parent.at(name), undefined, policy.create);
  } catch (error) {
    if (error instanceof SymlinkFound) throw new UntrustedDirError(`is a symbolic link`);
    throw error;
  }
  try {
    checkTarget(fstatSync(fd), policy);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return new TrustedDir(path, fd, parent.realPath === undefined ? undefined : join(parent.realPath, name));
}

class SymlinkFound extends Error {
  readonly uid: number;
  constructor(uid: number) {
    super('symbolic link');
    this.uid = uid;
  }
}

/**
 * The process's root directory, through /proc when it is there (`/proc/self/root` is `/` on a
 * host; under qemu-user's -L, opening "/" by name would give the emulated sysroot instead).
 */
function openRoot(): { fd: number; viaProc: boolean } {
  try {
    return { fd: openSync('/proc/self/root', constants.O_RDONLY | constants.O_DIRECTORY), viaProc: true };
  } catch {
    return { fd: openSync('/', DIR_FLAGS), viaProc: false };
  }
}

function parentOf(path: string): string {
  return path === '/' ? '/' : resolve(path, '..');
}

/**
 * Opens a directory entry without following a symbolic link; throws SymlinkFound for one.
 * `above` is the entry's path when it is not the directory asked for (messages say where it failed).
 */
function openDirEntry(entry: string, above: string | undefined, create: boolean): number {
  const where = above === undefined ? '' : ` at ${above}`;
  try {
    return openSync(entry, DIR_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (!create) throw new UntrustedDirError('does not exist yet', true);
      try {
        mkdirSync(entry, { mode: 0o700 });
      } catch (e) {
        const c = (e as NodeJS.ErrnoException).code;
        if (c !== 'EEXIST') throw new UntrustedDirError(`cannot be created (${c}${where})`);
      }
      return openDirEntry(entry, above, false);
    }
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      let st;
      try {
        st = lstatSync(entry);
      } catch {
        throw new UntrustedDirError(`cannot be read (${code}${where})`);
      }
      if (st.isSymbolicLink()) throw new SymlinkFound(st.uid);
      throw new UntrustedDirError(above === undefined ? 'is not a directory' : `is under ${above}, which is not a directory`);
    }
    throw new UntrustedDirError(`cannot be read (${code ?? 'error'}${where})`);
  }
}
