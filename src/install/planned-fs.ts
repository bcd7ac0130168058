// The node's files as they would be after a plan: reads see the planned content (removed files
// are gone), so the kubelet's command line and configs can be checked before anything changes.
import type { FileChange } from './changes.ts';
import { HostFs, type HostStat } from './host-fs.ts';

export class PlannedFs extends HostFs {
  private readonly planned = new Map<string, FileChange>();

  constructor(base: HostFs, changes: FileChange[]) {
    super(base.root);
    for (const c of changes) this.planned.set(c.path, c);
  }

  override read(hostPath: string): Buffer | undefined {
    const c = this.planned.get(this.realHostPath(hostPath));
    if (c === undefined) return super.read(hostPath);
    return c.after === undefined ? undefined : (c.after.bytes ?? Buffer.alloc(0));
  }

  override stat(hostPath: string): HostStat | undefined {
    const c = this.planned.get(this.realHostPath(hostPath));
    if (c === undefined) return super.stat(hostPath);
    return c.after === undefined ? undefined : { mode: c.mode, uid: 0, size: c.after.size, isFile: true, isDirectory: false };
  }

  override list(hostPath: string): string[] {
    const dir = this.realHostPath(hostPath);
    const names = new Set(super.list(hostPath));
    for (const [path, c] of this.planned) {
      if (this.parentOf(path) !== dir) continue;
      const name = path.slice(dir.length + 1);
      if (c.after === undefined) names.delete(name);
      else names.add(name);
    }
    return [...names].sort();
  }
}
