// The cache directory holds registry passwords, so it must be 0700 and ours. A directory that
// others can write to could hold planted tokens: it is not trusted at all.
import { mkdirSync, statSync } from 'node:fs';

export type CacheDirCheck = { usable: true } | { usable: false; reason: string };

/** Read-side check, cheap enough for every kubelet call: one stat. */
export function checkCacheDir(dir: string): CacheDirCheck {
  let stat;
  try {
    stat = statSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { usable: false, reason: code === 'ENOENT' ? 'does not exist yet' : `cannot be read (${code})` };
  }
  if (!stat.isDirectory()) return { usable: false, reason: 'is not a directory' };
  const euid = process.geteuid?.();
  if (euid !== undefined && stat.uid !== euid) return { usable: false, reason: `is owned by uid ${stat.uid}, not by us (uid ${euid})` };
  if ((stat.mode & 0o077) !== 0) return { usable: false, reason: `has mode ${(stat.mode & 0o777).toString(8)}, expected 700` };
  return { usable: true };
}

/**
 * Write-side preparation: create the directory 0700 if it is missing. An existing directory
 * that others can write to is never "fixed" and reused: files planted in it while it was open
 * would then be trusted, and a misconfigured cacheDir (say /tmp) must not be chmod-ed.
 */
export function prepareCacheDir(dir: string): CacheDirCheck {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return { usable: false, reason: `cannot be created (${(error as NodeJS.ErrnoException).code})` };
  }
  return checkCacheDir(dir);
}
