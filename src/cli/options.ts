// The global flags, declared once: yargs builds help and validation from this table, and the
// kubelet fast path (node:util parseArgs) parses the same flags without loading yargs.
import type { FlagValues } from '../config/resolve.ts';
import { LOG_FORMATS, LOG_LEVELS } from '../log/logger.ts';

export interface FlagSpec {
  type: 'string';
  array?: true;
  description: string;
  choices?: readonly string[];
}

export const GLOBAL_FLAGS = {
  config: { type: 'string', description: 'Provider config file (YAML or JSON); flags override it' },
  'cache-dir': { type: 'string', description: 'Directory for cached tokens and instance ids (0700) [default: /var/lib/aliyun-acr-credential-provider]' },
  'expiring-threshold': { type: 'string', description: 'Refresh a token this long before it expires, a Go duration [default: 15m]' },
  timeout: { type: 'string', description: 'Overall deadline of one invocation, at most 55s (the kubelet kills plugins at 60s) [default: 30s]' },
  'log-level': { type: 'string', description: 'Log level (stderr and --log-file); info adds one summary line per call [default: warn]', choices: LOG_LEVELS },
  'log-format': { type: 'string', description: 'Log line format: text, or json (one object per line: time, level, msg, fields) [default: text]', choices: LOG_FORMATS },
  'log-file': { type: 'string', description: 'Also append log lines to this file (absolute path; 0600, rotated at 10 MiB, 3 files kept)' },
  'metadata-endpoint': { type: 'string', description: 'ECS metadata service URL [default: $ALIBABA_CLOUD_IMDS_ENDPOINT or http://100.100.100.200]' },
  'cr-endpoint': { type: 'string', array: true, description: 'CR API endpoint: a URL template with {region}, or REGION=URL (repeatable)' },
  network: { type: 'string', description: 'Which CR API endpoint to use by default', choices: ['public', 'vpc'] },
} as const satisfies Record<string, FlagSpec>;

export type GlobalFlagName = keyof typeof GLOBAL_FLAGS;

/** Maps parsed flags (kebab-case keys) to FlagValues. */
export function toFlagValues(parsed: Record<string, unknown>): FlagValues {
  const flags: FlagValues = {};
  const str = (name: GlobalFlagName): string | undefined => {
    const value = parsed[name];
    return typeof value === 'string' ? value : Array.isArray(value) ? String(value[value.length - 1]) : undefined;
  };
  const set = <K extends keyof FlagValues>(key: K, value: FlagValues[K] | undefined) => {
    if (value !== undefined) flags[key] = value;
  };
  set('config', str('config'));
  set('cacheDir', str('cache-dir'));
  set('expiringThreshold', str('expiring-threshold'));
  set('timeout', str('timeout'));
  set('logLevel', str('log-level'));
  set('logFormat', str('log-format'));
  set('logFile', str('log-file'));
  set('metadataEndpoint', str('metadata-endpoint'));
  set('network', str('network'));
  const endpoints = parsed['cr-endpoint'];
  if (endpoints !== undefined) flags.crEndpoint = (Array.isArray(endpoints) ? endpoints : [endpoints]).map(String);
  return flags;
}
