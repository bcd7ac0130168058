// The `metrics` subcommand: reads the counters of the configured cache directory and prints
// them (or writes them for node-exporter's textfile collector: temp file + rename, so the
// collector never reads half a file; 0644, since counters hold no secret and the exporter
// usually runs as another user).
//
// node-exporter's directory often belongs to the exporter's user, so the file is written as root
// into a directory someone else owns: the directory is opened once and checked (the directories
// above it belong to root or us; it is not writable by others unless sticky and ours), the temp
// file is created O_EXCL|O_NOFOLLOW inside it and renamed over the name. A symbolic link planted
// at the name is replaced, never followed.
import { basename, dirname } from 'node:path';
import { replaceFileAtomically } from '../fs/atomic-write.ts';
import { openTrustedDir, UntrustedDirError } from '../fs/trusted-dir.ts';
import { loadConfig } from '../config/load.ts';
import type { FlagValues } from '../config/resolve.ts';
import { describeError, EXIT_OK, exitCodeFor } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import { readCounters } from './counters.ts';
import { renderPrometheus } from './prometheus.ts';

export async function runMetrics(flags: FlagValues, args: { textfile: string | undefined }, writeStdout: (text: string) => Promise<void>): Promise<number> {
  const logger = createLogger('warn');
  try {
    const config = await loadConfig(flags);
    const text = renderPrometheus(readCounters(config.cacheDir));
    if (args.textfile === undefined) await writeStdout(text);
    else writeAtomically(args.textfile, text);
    return EXIT_OK;
  } catch (error) {
    logger.error(describeError(error));
    return exitCodeFor(error);
  }
}

export function writeAtomically(path: string, text: string): void {
  let dir;
  try {
    dir = openTrustedDir(dirname(path), { owner: 'anyone', mode: 'not-writable-by-others', create: false });
  } catch (error) {
    if (error instanceof UntrustedDirError) throw new Error(`cannot write ${path}: its directory ${error.reason}`);
    throw error;
  }
  try {
    // 0644 for node-exporter (main() sets umask 077). Its temp name does not end in .prom, so
    // the collector never reads a half-written file.
    replaceFileAtomically(dir, basename(path), text, 0o644);
  } catch (error) {
    throw new Error(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`);
  } finally {
    dir.close();
  }
}
