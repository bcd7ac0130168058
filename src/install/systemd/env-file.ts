// Environment files (EnvironmentFile=, /etc/default/kubelet, kubeadm-flags.env): reading them
// as systemd does, and appending words to one variable while every other byte stays as it was.

/** KEY=VALUE assignments; quotes stripped, later assignments win. */
export function parseEnvFile(text: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const a of assignments(text)) env.set(a.name, a.value);
  return env;
}

interface Assignment {
  name: string;
  value: string;
  valueStart: number; // offset of the raw value (after '=')
  valueEnd: number; // offset just past the raw value
  quote: '"' | "'" | undefined;
}

function assignments(text: string): Assignment[] {
  const out: Assignment[] = [];
  const re = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const valueStart = m.index + m[0].length;
    const first = text[valueStart];
    if (first === '"' || first === "'") {
      const end = closingQuote(text, valueStart + 1, first);
      if (end === -1) continue; // unterminated: systemd ignores it too
      out.push({ name: m[1] as string, value: unescape(text.slice(valueStart + 1, end), first), valueStart, valueEnd: end + 1, quote: first });
      re.lastIndex = end + 1;
    } else {
      let end = valueStart;
      // Unquoted: to the end of the line, backslash-newline continues it.
      for (;;) {
        const nl = text.indexOf('\n', end);
        const lineEnd = nl === -1 ? text.length : nl;
        const line = text.slice(end, lineEnd).replace(/\r$/, '');
        if (line.endsWith('\\') && nl !== -1) {
          end = nl + 1;
          continue;
        }
        end = lineEnd - (text[lineEnd - 1] === '\r' ? 1 : 0);
        break;
      }
      const raw = text.slice(valueStart, end);
      out.push({ name: m[1] as string, value: raw.replace(/\\\r?\n/g, '').trim(), valueStart, valueEnd: valueStart + raw.trimEnd().length, quote: undefined });
    }
  }
  return out;
}

function closingQuote(text: string, from: number, quote: string): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\' && quote === '"') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

function unescape(raw: string, quote: string): string {
  return quote === '"' ? raw.replace(/\\\r?\n/g, '').replace(/\\(.)/g, '$1') : raw;
}

/**
 * Appends `words` to variable `name` (its last assignment, the one that counts), or adds a new
 * `name="…"` line at the end when the file does not set it. Nothing else changes.
 */
export function appendToEnvVar(text: string | undefined, name: string, words: string[]): string {
  const addition = words.join(' ');
  const source = text ?? '';
  const last = assignments(source).filter((a) => a.name === name).pop();
  if (last === undefined) {
    const sep = source === '' || source.endsWith('\n') ? '' : '\n';
    return `${source}${sep}${name}="${addition}"\n`;
  }
  const insertAt = last.quote ? last.valueEnd - 1 : last.valueEnd;
  const space = last.value.trim() === '' ? '' : ' ';
  return source.slice(0, insertAt) + space + addition + source.slice(insertAt);
}

/**
 * Takes each of `words` out wherever it stands as a whole word, with one blank next to it (the
 * one appendToEnvVar put before it), so that removing what was appended gives the text back.
 */
export function removeWords(text: string, words: string[]): string {
  let out = text;
  for (const word of words) {
    for (let at = out.indexOf(word); at !== -1; at = out.indexOf(word, at)) {
      const before = out[at - 1];
      const after = out[at + word.length];
      if (!(before === undefined || /[\s"'=]/.test(before)) || !(after === undefined || /[\s"'\\]/.test(after))) {
        at += word.length;
        continue;
      }
      const blankBefore = before === ' ' || before === '\t';
      const start = blankBefore ? at - 1 : at;
      const end = !blankBefore && (after === ' ' || after === '\t') ? at + word.length + 1 : at + word.length;
      out = out.slice(0, start) + out.slice(end);
      at = start;
    }
  }
  return out;
}
