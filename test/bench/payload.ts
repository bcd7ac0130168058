// Benchmark of the payload (`npm run bench:payload`; not part of `npm test`), side by side in one
// run, variants interleaved run by run so that the machine's load hits them alike:
//   - cache-hit invocation of the amd64 binary installed as the installer will install it (the
//     manifest's files copied into an install directory, the wrapper beside): started directly
//     (the host's loader and libraries), through its own loader (no shell), and through the
//     wrapper (/bin/sh, then its own loader: what the kubelet runs); wall-time median and p90;
//   - the installed footprint per architecture: the bytes of the files and the disk blocks they
//     take once copied (du), with the wrapper.
// Writes dist/bench-payload.json (or --out PATH) and prints a table.
//
//   node test/bench/payload.ts [--runs 40] [--out PATH]
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulators } from '../emulators/index.ts';
import { kubeletRequest, REPO_ROOT, writeConfig } from '../helpers/run-provider.ts';
import { fileMode, parseManifest, type PayloadManifest } from '../../src/payload/manifest.ts';
import { PAYLOAD_MANIFEST } from '../../src/payload/layout.ts';
import { renderWrapper } from '../../src/payload/wrapper.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '40' }, out: { type: 'string', default: join(REPO_ROOT, 'dist', 'bench-payload.json') } } });
const RUNS = Number(values.runs);
const PE_HOST = 'registry.cn-hangzhou.aliyuncs.com';
const payloadOf = (arch: string): string => join(REPO_ROOT, 'dist', 'payload', `linux-${arch}`);

/** Copies the payload as the installer will: the listed files, real copies, then the manifest and the wrapper. */
function installPayload(arch: string, base: string): { dir: string; wrapper: string; manifest: PayloadManifest } {
  const src = payloadOf(arch);
  const manifest = parseManifest(readFileSync(join(src, PAYLOAD_MANIFEST), 'utf8'));
  const dir = join(base, `install-${arch}`);
  for (const f of manifest.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    copyFileSync(join(src, f.path), join(dir, f.path));
    chmodSync(join(dir, f.path), fileMode(f));
  }
  copyFileSync(join(src, PAYLOAD_MANIFEST), join(dir, PAYLOAD_MANIFEST));
  const wrapper = join(base, `bin-${arch}`, 'aliyun-acr-credential-provider');
  mkdirSync(dirname(wrapper), { recursive: true });
  writeFileSync(wrapper, renderWrapper(dir, manifest.loader), { mode: 0o755 });
  return { dir, wrapper, manifest };
}

function run(cmd: string[], stdin: string): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

/** Kibibytes of `dir` per du: apparent (bytes of the files) and allocated (disk blocks). */
function du(dir: string): { apparentKiB: number; diskKiB: number } {
  const k = (args: string[]): number => Number(spawnSync('du', ['-s', '-k', ...args, dir], { encoding: 'utf8' }).stdout.split('\t')[0]);
  return { apparentKiB: k(['--apparent-size']), diskKiB: k([]) };
}

async function main(): Promise<void> {
  for (const arch of ['amd64', 'arm64']) if (!existsSync(join(payloadOf(arch), PAYLOAD_MANIFEST))) throw new Error(`${payloadOf(arch)} is missing: run npm run build:binary`);
  const base = mkdtempSync(join(tmpdir(), 'acr-bench-payload-'));
  const e = await startEmulators();
  const result: Record<string, any> = {
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), date: new Date().toISOString() },
    runs: RUNS,
  };
  try {
    const footprint: Record<string, unknown>[] = [];
    const installs = new Map<string, ReturnType<typeof installPayload>>();
    for (const arch of ['amd64', 'arm64']) {
      const inst = installPayload(arch, base);
      installs.set(arch, inst);
      const files = inst.manifest.files;
      const libBytes = files.filter((f) => f.path.startsWith('lib/')).reduce((n, f) => n + f.size, 0);
      footprint.push({ arch, files: files.length + 1, bytes: files.reduce((n, f) => n + f.size, 0) + readFileSync(join(inst.dir, PAYLOAD_MANIFEST)).length, libBytes, ...du(inst.dir), wrapperBytes: readFileSync(inst.wrapper).length });
    }
    result.footprint = footprint;

    const { dir, wrapper, manifest } = installs.get('amd64')!;
    const config = writeConfig(base, e, { cacheDir: join(base, 'cache') });
    const stdin = kubeletRequest(`${PE_HOST}/ns/app`);
    const args = ['--config', config];
    const binary = join(dir, manifest.binary);
    const variants = [
      { name: 'direct (host loader and libraries)', cmd: [binary, ...args] },
      { name: 'own loader, no shell', cmd: [join(dir, 'lib', manifest.loader), '--inhibit-cache', '--library-path', join(dir, 'lib'), '--argv0', wrapper, binary, ...args] },
      { name: 'wrapper (sh + own loader)', cmd: [wrapper, ...args] },
    ];
    for (const v of variants) {
      const warm = await run(v.cmd, stdin);
      if (warm.code !== 0 || !(JSON.parse(warm.stdout) as { auth?: Record<string, unknown> }).auth?.[PE_HOST]) throw new Error(`${v.name}: ${warm.stderr}`);
    }
    const wall = new Map<string, number[]>(variants.map((v) => [v.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const v of variants) {
        const s = await run(v.cmd, stdin);
        if (s.code !== 0) throw new Error(`${v.name}: exit ${s.code}: ${s.stderr}`);
        wall.get(v.name)!.push(s.ms);
      }
    }
    const direct = quantile(wall.get(variants[0]!.name)!, 0.5);
    result.hit = variants.map((v) => {
      const xs = wall.get(v.name)!;
      return { variant: v.name, medianMs: round(quantile(xs, 0.5)), p90Ms: round(quantile(xs, 0.9)), ratioToDirect: round(quantile(xs, 0.5) / direct, 3) };
    });
  } finally {
    await e.close();
    rmSync(base, { recursive: true, force: true });
  }
  writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
  const lines = [`machine: ${result.machine.cpuModel}, ${result.machine.cores} cores, ${result.machine.date} (load at start ${result.machine.loadAverageAtStart})`, '', 'installed payload footprint', '| arch | files | bytes | of which lib/ | du apparent | du on disk | wrapper |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const f of result.footprint) lines.push(`| ${f.arch} | ${f.files} | ${round(f.bytes / 2 ** 20)} MiB | ${round(f.libBytes / 2 ** 20)} MiB | ${round(f.apparentKiB / 1024)} MiB | ${round(f.diskKiB / 1024)} MiB | ${f.wrapperBytes} B |`);
  lines.push('', `cache hit, amd64, ${RUNS} runs each, interleaved`, '| variant | median | p90 | × direct |', '|---|---:|---:|---:|');
  for (const h of result.hit) lines.push(`| ${h.variant} | ${h.medianMs} ms | ${h.p90Ms} ms | ${h.ratioToDirect} |`);
  process.stdout.write(`${lines.join('\n')}\n\nJSON written to ${values.out}\n`);
}

await main();
