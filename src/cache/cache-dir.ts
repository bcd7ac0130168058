// The cache directory holds registry passwords, so it must be 0700 and ours, and so must be
// reachable only through directories that no other user can change (src/fs/trusted-dir.ts). A
// directory that fails this is not trusted at all: nothing is read from it and nothing is written
// to it, not a token, a lock or a counter.
import { fchmodSync, fstatSync } from 'node:fs';
import { openTrustedDir, openTrustedSubdir, TrustedDir, UntrustedDirError, type DirPolicy } from '../fs/trusted-dir.ts';

export type CacheDirCheck = { usable: true; dir: TrustedDir } | { usable: false; reason: string; missing: boolean };

const CACHE_POLICY: DirPolicy = { owner: 'self', mode: 'private', create: false };

/** Read-side check, cheap enough for every kubelet call: one open and fstat per path component. */
export function checkCacheDir(path: string): CacheDirCheck {
  return open(() => openTrustedDir(path, CACHE_POLICY));
}

/**
 * Write-side preparation: create the directory 0700 if it is missing (each level inside its checked
 * parent). An existing directory that others can write to is never "fixed" and reused: files
 * planted in it while it was open would then be trusted, and a misconfigured cacheDir (say /tmp)
 * must not be chmod-ed.
 */
export function prepareCacheDir(path: string): CacheDirCheck {
  return open(() => openTrustedDir(path, { ...CACHE_POLICY, create: true }));
}

/**
 * The pre-warmer's preparation (the DaemonSet's long-running container): as prepareCacheDir, and a
 * directory of ours that only we can write to but others can read (mode 755: what the kubelet
 * creates for a hostPath volume of type DirectoryOrCreate) is made 0700 instead of refused. That is
 * safe where "fixing" a directory others can write to is not: every directory above it passed the
 * checks and nobody but us could ever create anything in it. `tightenedFrom` is its old mode.
 */
export function prepareOwnCacheDir(path: string): CacheDirCheck & { tightenedFrom?: number } {
  const check = prepareCacheDir(path);
  if (check.usable || check.missing) return check;
  let dir: TrustedDir;
  try {
    dir = openTrustedDir(path, { ...CACHE_POLICY, mode: 'not-writable-by-others' });
  } catch {
    return check;
  }
  const mode = fstatSync(dir.fd).mode & 0o7777;
  // Not sticky (writable by others, even if they cannot move our entries), no group or other write bit.
  if ((mode & 0o7022) !== 0) {
    dir.close();
    return check;
  }
  fchmodSync(dir.fd, 0o700);
  return { usable: true, dir, tightenedFrom: mode };
}

/** A subdirectory of the cache (locks/, metrics/), created 0700 when missing and held to the same rules. */
export function cacheSubdir(cache: TrustedDir, name: string): CacheDirCheck {
  return open(() => openTrustedSubdir(cache, name, { ...CACHE_POLICY, create: true }));
}

function open(opener: () => TrustedDir): CacheDirCheck {
  try {
    return { usable: true, dir: opener() };
  } catch (error) {
    if (error instanceof UntrustedDirError) return { usable: false, reason: error.reason, missing: error.missing };
    throw error;
  }
}

/**
 * The cache directory of one invocation, opened and checked once: the hit path, the miss path and
 * the counters all work in the directory that was checked, whatever its path points to later.
 */
export class CacheDirectory {
  readonly path: string;
  #check: CacheDirCheck | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** The checked directory; with `create`, a missing one is created first. */
  open(create: boolean): CacheDirCheck {
    if (this.#check === undefined || (create && !this.#check.usable && this.#check.missing)) {
      this.#check = create ? prepareCacheDir(this.path) : checkCacheDir(this.path);
    }
    return this.#check;
  }
}
