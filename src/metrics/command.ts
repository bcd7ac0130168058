// The `metrics` subcommand: reads the counters of the configured cache directory and prints
// them (or writes them for node-exporter's textfile collector: temp file + rename, so the
// collector never reads half a file; 0644, since counters hold no secret and the exporter
// usually runs as another user).
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { FlagValues } from '../config/resolve.ts';
import { describeError, isProviderError } from '../errors.ts';
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
    return 0;
  } catch (error) {
    logger.error(describeError(error));
    return isProviderError(error) && error.errorClass === 'config' ? 2 : 1;
  }
}

export function writeAtomically(path: string, text: string): void {
  // node-exporter reads only *.prom files: a temp name without that suffix is never collected.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, text);
      fchmodSync(fd, 0o644); // main() sets umask 077
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new Error(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`);
  }
}
