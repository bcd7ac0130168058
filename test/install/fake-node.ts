// A node's moving parts for black-box installer tests: the built CLI runs as a process with
// the fake `nsenter` (fixtures/bin/nsenter) first on PATH, standing in for the host's systemctl
// and kubelet, and asks a real HTTP server on 127.0.0.1 for the kubelet's healthz, whose answer
// the test sets. Both expose observable points (a blocked step, a healthz request, a stderr line)
// so a test can stop the installer at a precise step without sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { QEMU_AARCH64 } from '../packaging/host-tree.ts';
import { BUNDLE, REPO_ROOT, tempDir } from './helpers.ts';

export const FAKE_BIN = join(REPO_ROOT, 'test', 'install', 'fixtures', 'bin');

export type Step = 'version' | 'daemon-reload' | 'restart' | 'plugin';

/** Polls `check` every 10 ms; fails after `ms` (a generous bound, not a timing assertion). */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export class Healthz {
  /** Decides each answer; the default is a healthy kubelet. */
  judge: () => boolean = () => true;
  requests = 0;
  readonly url: string;
  private readonly server: Server;
  private constructor(server: Server, port: number) {
    this.server = server;
    this.url = `http://127.0.0.1:${port}/healthz`;
  }

  static async start(): Promise<Healthz> {
    let self: Healthz | undefined;
    const server = createServer((_req, res) => {
      if (self) self.requests++;
      const ok = self?.judge() ?? true;
      res.writeHead(ok ? 200 : 500).end(ok ? 'ok' : 'kubelet not ready');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new Healthz(server, (server.address() as { port: number }).port);
    return self;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * How the node's kubelet behaves: `good` is healthy whatever it loaded; `bad` cannot start with
 * the provider's flags (unhealthy once a restart loaded them); `starting` answers 500 until the
 * test changes it (a slow start, to hold the installer in its health wait).
 */
export type Kubelet = 'good' | 'bad' | 'starting';

export class FakeNode {
  readonly dir = tempDir('acr-node-');
  kubelet: Kubelet = 'good';
  readonly children: ChildProcess[] = []; // killed by close(), so a failed test leaves no installer behind
  readonly healthz: Healthz;
  private constructor(healthz: Healthz) {
    this.healthz = healthz;
    healthz.judge = () => this.kubelet === 'good' || (this.kubelet === 'bad' && !this.loaded().includes('--image-credential-provider'));
  }

  static async start(version = 'Kubernetes v1.30.2'): Promise<FakeNode> {
    const node = new FakeNode(await Healthz.start());
    node.setVersion(version);
    writeFileSync(join(node.dir, 'qemu-binfmt'), QEMU_AARCH64);
    return node;
  }

  /** The kubelet loads these host files of `root` at each restart (see loaded()). */
  kubeletReads(root: string, paths: string[]): void {
    writeFileSync(join(this.dir, 'host-root'), root);
    writeFileSync(join(this.dir, 'kubelet-reads'), `${paths.join('\n')}\n`);
  }

  /** What the running kubelet loaded at its last restart ('' before any restart). */
  loaded(): string {
    const file = join(this.dir, 'loaded');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** The same rendering as the fake's, of the files as they are now. */
  current(root: string, paths: string[]): string {
    return paths.map((p) => `== ${p}\n${existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : '<absent>\n'}`).join('');
  }

  setVersion(text: string): void {
    writeFileSync(join(this.dir, 'version'), `${text}\n`);
  }

  /** Every host command run so far, e.g. "systemctl restart kubelet.service". */
  calls(): string[] {
    const file = join(this.dir, 'calls');
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
  }

  /** The provider runs (the smoke test), as "<path> <args>". */
  pluginRuns(): string[] {
    return this.calls().filter((c) => /^\S*\/aliyun-acr-credential-provider( |$)/.test(c));
  }

  restarts(): string[] {
    return this.calls().filter((c) => c.startsWith('systemctl restart '));
  }

  block(step: Step): void {
    rmSync(join(this.dir, `blocked-${step}`), { force: true });
    writeFileSync(join(this.dir, `block-${step}`), '');
  }

  release(step: Step): void {
    rmSync(join(this.dir, `block-${step}`), { force: true });
  }

  blocked(step: Step): boolean {
    return existsSync(join(this.dir, `blocked-${step}`));
  }

  fail(step: Step, message: string): void {
    writeFileSync(join(this.dir, `fail-${step}`), message);
  }

  env(): Record<string, string> {
    return { PATH: `${FAKE_BIN}:${process.env.PATH ?? '/usr/bin:/bin'}`, FAKE_NODE_DIR: this.dir };
  }

  /** Common flags: this node's healthz, a short health timeout and a fast poll. */
  flags(healthTimeout = '2s'): string[] {
    return ['--healthz-url', this.healthz.url, '--health-timeout', healthTimeout, '--health-interval', '10ms'];
  }

  close(): Promise<void> {
    for (const child of this.children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const step of ['version', 'daemon-reload', 'restart', 'plugin'] as const) this.release(step);
    return this.healthz.close();
  }
}

export interface Run {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI with the node's fake nsenter on PATH. */
export function startCli(node: FakeNode, args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...node.env(), ...env } });
  node.children.push(child);
  let err = '';
  child.stderr?.on('data', (d) => (err += String(d)));
  child.stdout?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exited };
}

/** Runs the built CLI to the end. */
export async function runCli(node: FakeNode, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [BUNDLE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...node.env(), ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (err += String(d)));
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr: err, stdout: out };
}
