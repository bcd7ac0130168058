// docs/development.md's "Where to change what" table stays true: every file it names exists, and
// for a new registry host form the compiler itself lists the places the table says it will (a
// copy of src/ gets a new RegistryTarget variant and is type-checked): no switch over the kind
// hides a missed case behind a `default:`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs/development.md'), 'utf8');

interface Row {
  change: string;
  edit: string[];
  compiler: string[];
}

/** The rows of the table under "## Where to change what": | change | edit | compiler |. */
function table(): Row[] {
  const section = DOC.split(/^## /m).find((s) => s.startsWith('Where to change what'));
  assert.ok(section, 'docs/development.md has a "Where to change what" section');
  const paths = (cell: string) => [...cell.matchAll(/`((?:src|test|packaging|docs)\/[^`\s]*|[\w.-]+\.(?:md|yaml|json))`/g)].map((m) => m[1]!);
  return section
    .split('\n')
    .filter((line) => /^\|/.test(line) && !/^\|[-| ]+\|$/.test(line))
    .slice(1)
    .map((line) => {
      const [change = '', edit = '', compiler = ''] = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
      return { change, edit: paths(edit), compiler: paths(compiler) };
    });
}

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** Type-checks a copy of src/ after `edits` (file -> [text to find, replacement]); returns the files with errors. */
function filesFlagged(edits: Record<string, Array<[string, string]>>): Set<string> {
  const dir = mkdtempSync(join(tmpdir(), 'acr-where-'));
  made.push(dir);
  for (const p of ['src', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src'] }));
  for (const [file, replacements] of Object.entries(edits)) {
    let text = readFileSync(join(dir, file), 'utf8');
    for (const [from, to] of replacements) {
      assert.ok(text.includes(from), `${file} still contains ${JSON.stringify(from)} (update this test)`);
      text = text.replace(from, to);
    }
    writeFileSync(join(dir, file), text);
  }
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], { cwd: dir, encoding: 'utf8' });
  return new Set([...r.stdout.matchAll(/^(src\/[^(]+)\(\d+,\d+\): error/gm)].map((m) => m[1]!));
}

const NEW_VARIANT: [string, string] = ["| { kind: 'unrecognized'; host: string };", "| { kind: 'unrecognized'; host: string }\n  | { kind: 'new-form'; host: string; region: string };"];

describe('docs/development.md: where to change what', () => {
  const rows = table();

  it('has the four changes a newcomer asks about', () => {
    for (const change of ['a new ACR host form', 'a new identity mode', 'a new subcommand', 'a new metric']) {
      assert.ok(rows.some((r) => r.change.toLowerCase() === change.toLowerCase()), `a row for "${change}"`);
    }
  });

  for (const row of rows) {
    it(`${row.change}: every file it names exists`, () => {
      assert.ok(row.edit.length > 0, 'names at least one file');
      for (const path of [...row.edit, ...row.compiler]) assert.ok(existsSync(join(ROOT, path.replace(/<[^>]+>.*$/, ''))), `${path} exists`);
    });
  }

  it('a new ACR host form: the compiler lists exactly the places the table names', () => {
    const row = rows.find((r) => r.change.toLowerCase() === 'a new acr host form');
    assert.ok(row);
    // Twice: a form we cannot mint tokens for (as crpi- hosts), and one we can.
    const withoutTokens = filesFlagged({ 'src/acr/registry-host.ts': [NEW_VARIANT] });
    const withTokens = filesFlagged({ 'src/acr/registry-host.ts': [NEW_VARIANT], 'src/acr/registry-target.ts': [["const TOKEN_KINDS = ['personal', ", "const TOKEN_KINDS = ['new-form', 'personal', "]] });
    const flagged = new Set([...withoutTokens, ...withTokens]);
    for (const file of row.compiler) assert.ok(flagged.has(file), `the compiler points at ${file} (flagged: ${[...flagged].join(', ') || 'nothing'})`);
    for (const file of flagged) assert.ok(row.edit.includes(file) || row.compiler.includes(file), `${file} has an error but the table does not name it`);
  });
});
