// Puts our entry into the kubelet's CredentialProviderConfig file: other providers, comments
// and order stay as they are (yaml Document API; JSON stays JSON), an existing entry of ours is
// replaced where it stands, and an entry that is already right leaves the file byte-identical.
import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isSeq, parse, parseDocument, type YAMLSeq } from 'yaml';
import { ProviderError } from '../../errors.ts';
import { PROVIDER_NAME } from '../paths.ts';
import type { ProviderEntry } from './entry.ts';

export function isJsonText(text: string): boolean {
  return /^\uFEFF?\s*\{/.test(text);
}

/** Parses a config file as the kubelet would (duplicate keys are errors). */
export function parseConfigText(text: string, path: string): unknown {
  try {
    return isJsonText(text) ? JSON.parse(text.replace(/^\uFEFF/, '')) : parse(text, { uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    throw new ProviderError('install', `cannot parse the kubelet credential provider config ${path}: ${(error as Error).message.split('\n')[0]}; fix or remove it, then re-run`);
  }
}

export function renderNewConfig(entry: ProviderEntry, configApiVersion: string, json = false): string {
  const doc = { apiVersion: configApiVersion, kind: 'CredentialProviderConfig', providers: [entry] };
  if (json) return `${JSON.stringify(doc, null, 2)}\n`;
  const body = new Document(doc);
  return `# Written by ${PROVIDER_NAME} install; uninstall restores the previous state.\n${body.toString({ lineWidth: 0 })}`;
}

/** The file's text with our entry merged in (the same string when nothing changes). */
export function mergeEntry(text: string, entry: ProviderEntry, path: string): string {
  const current = parseConfigText(text, path);
  if (typeof current !== 'object' || current === null || Array.isArray(current)) {
    throw new ProviderError('install', `${path} is not a CredentialProviderConfig mapping; fix or remove it, then re-run`);
  }
  const providers = (current as Record<string, unknown>)['providers'];
  const list = Array.isArray(providers) ? providers : [];
  const existing = list.find((p) => typeof p === 'object' && p !== null && (p as Record<string, unknown>)['name'] === PROVIDER_NAME);
  if (existing !== undefined && isDeepStrictEqual(existing, entry)) return text;
  return isJsonText(text) ? mergeJson(text, current as Record<string, unknown>, entry) : mergeYaml(text, entry, path);
}

function mergeJson(text: string, doc: Record<string, unknown>, entry: ProviderEntry): string {
  const providers = Array.isArray(doc['providers']) ? (doc['providers'] as unknown[]) : [];
  const index = providers.findIndex((p) => typeof p === 'object' && p !== null && (p as Record<string, unknown>)['name'] === PROVIDER_NAME);
  if (index === -1) providers.push(entry);
  else providers[index] = entry;
  doc['providers'] = providers;
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  return JSON.stringify(doc, null, indent) + (text.endsWith('\n') ? '\n' : '');
}

function mergeYaml(text: string, entry: ProviderEntry, path: string): string {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new ProviderError('install', `cannot parse ${path}: ${doc.errors[0]?.message.split('\n')[0]}; fix or remove it, then re-run`);
  if (!isMap(doc.contents)) throw new ProviderError('install', `${path} is not a CredentialProviderConfig mapping; fix or remove it, then re-run`);
  let seq = doc.get('providers', true);
  if (!isSeq(seq)) {
    seq = doc.createNode([]) as YAMLSeq;
    doc.set('providers', seq);
  }
  const items = (seq as YAMLSeq).items;
  const node = doc.createNode(entry);
  const index = items.findIndex((item) => isMap(item) && item.get('name') === PROVIDER_NAME);
  if (index === -1) items.push(node);
  else {
    const old = items[index];
    if (isMap(old)) {
      node.commentBefore = old.commentBefore;
      node.comment = old.comment;
    }
    items[index] = node;
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * The file's text without our entry, and how many providers remain. YAML: the entry's lines are
 * cut out and every other byte stays (the yaml Document API only when that cut does not parse to
 * the same thing); JSON is re-serialised with the file's indentation.
 */
export function removeEntry(text: string, path: string): { text: string; remaining: number } {
  const doc = parseConfigText(text, path) as Record<string, unknown> | null;
  const providers = Array.isArray(doc?.['providers']) ? (doc['providers'] as unknown[]) : [];
  const others = providers.filter((p) => !isOurs(p));
  if (others.length === providers.length) return { text, remaining: providers.length };
  const wanted = { ...doc, providers: others };
  if (isJsonText(text)) {
    const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
    return { text: JSON.stringify(wanted, null, indent) + (text.endsWith('\n') ? '\n' : ''), remaining: others.length };
  }
  const cut = cutYamlEntry(text);
  if (cut !== undefined && isDeepStrictEqual(normalise(parse(cut)), normalise(wanted))) return { text: cut, remaining: others.length };
  const edited = parseDocument(text, { uniqueKeys: true });
  const seq = edited.get('providers', true) as YAMLSeq;
  seq.items = seq.items.filter((item) => !(isMap(item) && item.get('name') === PROVIDER_NAME));
  return { text: edited.toString({ lineWidth: 0 }), remaining: others.length };
}

function isOurs(p: unknown): boolean {
  return typeof p === 'object' && p !== null && (p as Record<string, unknown>)['name'] === PROVIDER_NAME;
}

/** A block-sequence item's lines cut out of the text, or undefined when the entry is not one. */
function cutYamlEntry(text: string): string | undefined {
  const doc = parseDocument(text, { uniqueKeys: true });
  const seq = doc.get('providers', true);
  if (!isSeq(seq)) return undefined;
  const item = seq.items.find((i) => isMap(i) && i.get('name') === PROVIDER_NAME);
  if (!isMap(item) || item.range === undefined || item.range === null) return undefined;
  const [start, , end] = item.range;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  if (!/^[ \t]*-[ \t]*$/.test(text.slice(lineStart, start))) return undefined;
  const lineEnd = text[end - 1] === '\n' ? end : text.indexOf('\n', end) === -1 ? text.length : text.indexOf('\n', end) + 1;
  return text.slice(0, lineStart) + text.slice(lineEnd);
}

/** An empty `providers:` parses as null: the same as no providers. */
function normalise(doc: unknown): unknown {
  const d = doc as Record<string, unknown> | null;
  return d && (d['providers'] === null || (Array.isArray(d['providers']) && d['providers'].length === 0)) ? { ...d, providers: [] } : d;
}
