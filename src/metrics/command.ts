// The `metrics` subcommand: reads the counters of the configured cache directory and prints
// them (or writes them for node-exporter's textfile collector: temp file + rename, so the
// collector never reads half a file; 0644, since counters hold no secret and the exporter
// usually runs as another user).
import writeFileAtomic from 'write-file-atomic';
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
  try {
    // 0644 for node-exporter (main() sets umask 077). Its temp name does not end in .prom, so
    // the collector never reads a half-written file.
    writeFileAtomic.sync(path, text, { mode: 0o644 });
  } catch (error) {
    throw new Error(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? describeError(error)}`);
  }
}
