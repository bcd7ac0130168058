// The logger's two formats, redaction in both, and the log file: 0600, every line kept across
// rotations while several processes append at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, mkdirSync, utimesSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { takeDirLock as takeLock } from '../../../src/cache/dir-lock.ts';
import { LogFile } from '../../../src/log/log-file.ts';
import { createLogger, registerSecret } from '../../../src/log/logger.ts';

const fixture = new URL('./fixtures/log-writer.ts', import.meta.url).pathname;

function capture(format: 'text' | 'json', level: 'warn' | 'info' = 'info') {
  const lines: string[] = [];
  const logger = createLogger(level, (l) => lines.push(l), format);
  return { logger, lines };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'acr-log-'));
}

describe('log formats', () => {
  it('text: program, level, message and key=value fields on one line; calls as Action:outcome:Nms', () => {
    const { logger, lines } = capture('text');
    logger.info('served', { host: 'registry.cn-hangzhou.aliyuncs.com', cache: 'refreshed', calls: [{ action: 'GetAuthorizationToken', outcome: 'ok', ms: 12 }], error: undefined, ms: 40 });
    assert.deepEqual(lines, ['aliyun-acr-credential-provider: info: served host=registry.cn-hangzhou.aliyuncs.com cache=refreshed calls=GetAuthorizationToken:ok:12ms ms=40']);
  });

  it('json: one object per line with time, level, msg and the fields (calls as a list)', () => {
    const { logger, lines } = capture('json');
    logger.warn('multi\nline', { host: 'h', calls: [{ action: 'ListInstance', outcome: 'throttled', ms: 3 }], n: 2, skipped: undefined });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('\n'));
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(doc.level, 'warn');
    assert.equal(doc.msg, 'multi line');
    assert.ok(!Number.isNaN(Date.parse(String(doc.time))));
    assert.equal(doc.host, 'h');
    assert.equal(doc.n, 2);
    assert.deepEqual(doc.calls, [{ action: 'ListInstance', outcome: 'throttled', ms: 3 }]);
    assert.ok(!('skipped' in doc));
  });

  it('json: a field cannot overwrite time, level or msg', () => {
    const { logger, lines } = capture('json');
    logger.info('real', { msg: 'fake', level: 'error', time: 'never' });
    const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(doc.msg, 'real');
    assert.equal(doc.level, 'info');
    assert.notEqual(doc.time, 'never');
  });

  it('the level switch filters in both formats', () => {
    for (const format of ['text', 'json'] as const) {
      const { logger, lines } = capture(format, 'warn');
      logger.info('hidden');
      logger.debug('hidden');
      logger.warn('shown');
      assert.equal(lines.length, 1, format);
    }
  });

  it('a registered secret is redacted in text, json and the log file', () => {
    const secret = 'eyJsecretTOKENvalue1234567890';
    registerSecret(secret);
    const dir = tmp();
    try {
      for (const format of ['text', 'json'] as const) {
        const { logger, lines } = capture(format);
        const file = new LogFile(join(dir, `${format}.log`));
        logger.sink = file;
        logger.error(`refresh failed: ${secret}`, { detail: `x${secret}y` });
        assert.ok(!lines.join('\n').includes(secret), format);
        assert.match(lines[0]!, /\[REDACTED\]/);
        const text = readFileSync(file.path, 'utf8');
        assert.ok(!text.includes(secret));
        assert.match(text, /\[REDACTED\]/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the log file gets time-stamped text lines and the same JSON lines', () => {
    const dir = tmp();
    try {
      const text = capture('text');
      text.logger.sink = new LogFile(join(dir, 'a.log'));
      text.logger.info('served', { cache: 'hit' });
      assert.match(readFileSync(join(dir, 'a.log'), 'utf8'), /^\d{4}-\d\d-\d\dT[\d:.]+Z aliyun-acr-credential-provider: info: served cache=hit\n$/);
      const json = capture('json');
      json.logger.sink = new LogFile(join(dir, 'b.log'));
      json.logger.info('served', { cache: 'hit' });
      assert.equal(readFileSync(join(dir, 'b.log'), 'utf8'), `${json.lines[0]}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('log file', () => {
  it('is created 0600 in a 0700 directory it creates, and tightens an existing 0644 file', () => {
    const dir = tmp();
    try {
      const path = join(dir, 'sub', 'p.log');
      new LogFile(path).write('one');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
      const loose = join(dir, 'loose.log');
      writeFileSync(loose, '');
      chmodSync(loose, 0o644);
      new LogFile(loose).write('two');
      assert.equal(statSync(loose).mode & 0o777, 0o600);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates by size into file.1, file.2 and drops older ones', () => {
    const dir = tmp();
    try {
      const path = join(dir, 'r.log');
      const file = new LogFile(path, { maxBytes: 4096, maxFiles: 3 });
      for (let i = 0; i < 400; i++) file.write(`line ${i} ${'y'.repeat(50)}`);
      const names = readdirSync(dir).sort();
      assert.deepEqual(names, ['r.log', 'r.log.1', 'r.log.2']);
      for (const n of names) assert.ok(statSync(join(dir, n)).size <= 4096 + 100, n);
      // The newest line is in the live file; rotated files hold older lines, in order.
      assert.match(readFileSync(path, 'utf8'), /line 399 /);
      const first1 = Number(/line (\d+)/.exec(readFileSync(`${path}.1`, 'utf8'))![1]);
      const first2 = Number(/line (\d+)/.exec(readFileSync(`${path}.2`, 'utf8'))![1]);
      assert.ok(first2 < first1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('8 processes appending through rotations: no line lost, torn or interleaved', async () => {
    const dir = tmp();
    try {
      const path = join(dir, 'c.log');
      const per = 300;
      const procs = 8;
      // maxFiles high enough that nothing is dropped: then every line must be somewhere.
      await Promise.all(
        Array.from({ length: procs }, (_, p) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [fixture, path, `p${p}`, String(per), '8192', '200'], { stdio: 'inherit' });
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exit ${code}`))));
          }),
        ),
      );
      const files = readdirSync(dir).filter((n) => n.startsWith('c.log'));
      assert.ok(files.length > 3, 'rotation happened several times');
      assert.ok(!files.some((n) => n.includes('lock')), 'no lock left behind');
      const seen = new Map<string, Set<number>>();
      for (const n of files) {
        for (const line of readFileSync(join(dir, n), 'utf8').split('\n')) {
          if (line === '') continue;
          const doc = JSON.parse(line) as { tag: string; i: number };
          const set = seen.get(doc.tag) ?? new Set<number>();
          assert.ok(!set.has(doc.i), 'no duplicate line');
          set.add(doc.i);
          seen.set(doc.tag, set);
        }
      }
      for (let p = 0; p < procs; p++) assert.equal(seen.get(`p${p}`)?.size, per, `all lines of p${p}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a rotation lock left by a killed process is taken over once stale', () => {
    const dir = tmp();
    try {
      const lock = join(dir, 'x.rotate-lock');
      mkdirSync(lock);
      assert.equal(takeLock(lock, 10_000), false, 'a fresh lock is respected');
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      assert.equal(takeLock(lock, 10_000), true, 'a stale lock is taken over');
      assert.ok(existsSync(lock));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
