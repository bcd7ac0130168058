// Shared checks of the reliability suites: the cache directory is still healthy (every token
// file parses and has the expected shape, no temp or lock debris that would block the next
// call), and no secret reached the log file or the counters.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertNoSecretsIn, secretsOf, type Cloud } from '../helpers/cloud.ts';
import { runProvider } from '../helpers/run-provider.ts';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every cache file is 0600 and well-formed JSON (token/instance files), a counters file or an empty served marker. */
export function assertCacheHealthy(cacheDir: string): void {
  for (const f of walk(cacheDir)) {
    assert.equal(statSync(f).mode & 0o777, 0o600, `${f} mode`);
    if (f.includes(`${join(cacheDir, 'metrics')}/`)) continue;
    // served/: empty markers whose mtime is all they hold (store.ts).
    if (f.includes(`${join(cacheDir, 'served')}/`)) {
      assert.equal(statSync(f).size, 0, `${f} is an empty marker`);
      continue;
    }
    const doc = JSON.parse(readFileSync(f, 'utf8')) as { value?: unknown };
    assert.ok(doc && typeof doc === 'object' && 'value' in doc, `${f} is a keyv record`);
  }
}

/** Text of every log file and counter file under `dir`, plus the `metrics` exposition. */
export async function observabilityText(c: Cloud, logFile: string | undefined): Promise<string> {
  const parts: string[] = [];
  if (logFile) for (const f of walk(join(logFile, '..'))) parts.push(readFileSync(f, 'utf8'));
  for (const f of walk(join(c.cacheDir, 'metrics'))) parts.push(readFileSync(f, 'utf8'));
  const m = await runProvider({ args: ['metrics', '--config', c.configPath] });
  assert.equal(m.code, 0, m.stderr);
  parts.push(m.stdout);
  return parts.join('\n');
}

export async function assertNoSecretsInObservability(c: Cloud, logFile: string | undefined): Promise<void> {
  const secrets = secretsOf(c.e, c.extraSecrets);
  assert.ok(secrets.length > 0, 'secrets were issued (the check is not vacuous)');
  assertNoSecretsIn('log file and counters', await observabilityText(c, logFile), secrets);
}

/** Prometheus sample value (0 when absent). */
export function sample(exposition: string, series: string): number {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
