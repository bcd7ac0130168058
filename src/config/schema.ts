// Schema of the provider's config file. Every object is strict: an unknown key is an error that
// names the key, because a misspelt setting silently ignored is worse than a failed start.
import * as v from 'valibot';
import { parseGoDuration } from '../kubelet/go-duration.ts';
import { LOG_LEVELS } from '../log/logger.ts';

const goDuration = v.pipe(
  v.string(),
  v.check((s) => isGoDuration(s), 'expected a duration such as "15m" or "30s"'),
);

const httpUrl = v.pipe(
  v.string(),
  v.check((s) => isHttpUrl(s.replaceAll('{region}', 'region')), 'expected an http:// or https:// URL'),
);

const hostName = v.pipe(
  v.string(),
  v.check((s) => /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(s), 'expected a registry host name, optionally with :port'),
);

const regionId = v.pipe(
  v.string(),
  v.regex(/^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$/, 'expected a region id such as "cn-hangzhou"'),
);

export const registryEntrySchema = v.strictObject({
  domains: v.pipe(v.array(hostName), v.minLength(1, 'list at least one domain')),
  instanceId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, 'expected an instance id such as "cri-xxxx"'))),
  regionId: v.optional(regionId),
});

export const configFileSchema = v.strictObject({
  cacheDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  expiringThreshold: v.optional(goDuration),
  timeout: v.optional(goDuration),
  logLevel: v.optional(v.picklist(LOG_LEVELS)),
  metadata: v.optional(
    v.strictObject({
      endpoint: v.optional(httpUrl),
      roleName: v.optional(v.pipe(v.string(), v.minLength(1))),
      disableIMDSv1: v.optional(v.boolean()),
    }),
  ),
  cr: v.optional(
    v.strictObject({
      network: v.optional(v.picklist(['public', 'vpc'])),
      // A template with {region}, or a map region -> URL, for private endpoints and tests.
      endpoint: v.optional(v.union([httpUrl, v.record(regionId, httpUrl)])),
    }),
  ),
  registries: v.optional(v.array(registryEntrySchema)),
});

export type ConfigFile = v.InferOutput<typeof configFileSchema>;
export type RegistryEntry = v.InferOutput<typeof registryEntrySchema>;

export function isGoDuration(s: string): boolean {
  try {
    parseGoDuration(s);
    return true;
  } catch {
    return false;
  }
}

export function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Validates parsed file content; returns one line naming the offending key on failure. */
export function validateConfigFile(input: unknown): { ok: true; config: ConfigFile } | { ok: false; problem: string } {
  if (input === null || input === undefined) return { ok: true, config: {} };
  if (typeof input !== 'object' || Array.isArray(input)) return { ok: false, problem: 'the top level must be a mapping' };
  const result = v.safeParse(configFileSchema, input);
  if (result.success) return { ok: true, config: result.output };
  const issue = result.issues[0];
  const path = (issue.path ?? []).map((p) => String(p.key)).join('.');
  if (issue.type === 'strict_object' && issue.expected === 'never') return { ok: false, problem: `unknown key "${path}"` };
  return { ok: false, problem: `${path || 'config'}: ${issue.message}` };
}
