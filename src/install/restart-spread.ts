// First install across a cluster: `kubectl apply` starts every node's installer at once (the
// DaemonSet's maxUnavailable paces updates only), which would restart every kubelet, and every
// k3s server, together. Each node first waits a delay derived from its name, spread evenly over
// a window, before it changes anything the kubelet reads: files are written only after the wait,
// so a kubelet restarted by someone else meanwhile sees nothing half-done.
import { createHash } from 'node:crypto';
import { stoppedBeforeChanges } from './transaction.ts';

export interface RestartSpread {
  nodeName: string;
  windowMs: number;
  window: string; // as given, for the log
}

/** A stable delay in [0, windowMs) for this node name. */
export function spreadDelayMs(nodeName: string, windowMs: number): number {
  if (windowMs <= 0) return 0;
  return Number(createHash('sha256').update(nodeName).digest().readBigUInt64BE(0) % BigInt(Math.floor(windowMs)));
}

/** Waits this node's delay; SIGTERM ends the wait (nothing has changed yet). */
export async function waitRestartSpread(spread: RestartSpread, log: (line: string) => void, signal: AbortSignal | undefined): Promise<void> {
  const delay = spreadDelayMs(spread.nodeName, spread.windowMs);
  log(`restart spread: waiting ${delay}ms (node "${spread.nodeName}", window ${spread.window}) before changing the kubelet`);
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, delay);
    signal?.addEventListener('abort', done, { once: true });
  });
  if (signal?.aborted) throw stoppedBeforeChanges();
}
