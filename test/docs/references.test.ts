// The documentation holds together: every "docs/….md §N" that code and tests cite names a heading
// that exists, every § belongs to a named document (on its line, or the last one the file named
// before it), and every relative link in README.md and docs/ points at a file (and heading) that
// exists.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...filesUnder(full, pattern));
    else if (pattern.test(name)) out.push(full);
  }
  return out;
}

/** Heading numbers of a markdown file: "## 8. Test vectors" -> "8", "### 8(a) Matching" -> "8(a)". */
function sectionNumbers(markdown: string): Set<string> {
  const numbers = new Set<string>();
  for (const m of markdown.matchAll(/^#+\s+(\d+(?:\.\d+)*(?:\([a-z]\))?)[.\s]/gm)) numbers.add(m[1]!);
  return numbers;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const withoutCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of withoutCode.matchAll(/^#+\s+(.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-'));
  }
  return out;
}

const THIS_FILE = fileURLToPath(import.meta.url);
const sourceFiles = ['src', 'test', 'packaging'].flatMap((d) => filesUnder(join(ROOT, d), /\.ts$/)).filter((f) => f !== THIS_FILE);

describe('section references in code and tests', () => {
  const cited: { file: string; line: number; doc: string; section: string }[] = [];
  const bare: string[] = [];
  for (const file of sourceFiles) {
    let lastDoc: string | undefined;
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      const doc = /(docs\/[\w/.-]+\.md)/.exec(text)?.[1] ?? lastDoc;
      lastDoc = doc;
      if (!text.includes('§')) return;
      if (doc === undefined) bare.push(`${relative(ROOT, file)}:${i + 1}`);
      else for (const m of text.matchAll(/§(\d+(?:\.\d+)*(?:\([a-z]\))?)/g)) cited.push({ file: relative(ROOT, file), line: i + 1, doc, section: m[1]! });
    });
  }

  it('every § names the document it refers to', () => {
    assert.deepEqual(bare, []);
  });

  it('finds the citations it checks', () => {
    assert.ok(cited.length >= 5, `only ${cited.length} citations found`);
  });

  it('every cited section is a heading of the committed document', () => {
    const missing = cited.filter(({ doc, section }) => {
      const path = join(ROOT, doc);
      return !existsSync(path) || !sectionNumbers(readFileSync(path, 'utf8')).has(section);
    });
    assert.deepEqual(missing.map((c) => `${c.file}:${c.line} ${c.doc} §${c.section}`), []);
  });
});

describe('relative links in README.md and docs/', () => {
  const pages = [join(ROOT, 'README.md'), ...filesUnder(join(ROOT, 'docs'), /\.md$/)];
  for (const page of pages) {
    it(relative(ROOT, page), () => {
      const text = readFileSync(page, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      const broken: string[] = [];
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const file = path === '' ? page : resolve(dirname(page), path);
        if (!existsSync(file)) {
          broken.push(target);
          continue;
        }
        if (anchor !== undefined && statSync(file).isFile() && !anchors(readFileSync(file, 'utf8')).has(anchor)) broken.push(target);
      }
      assert.deepEqual(broken, []);
    });
  }
});
