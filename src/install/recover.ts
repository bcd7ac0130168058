// `recover`: what the dead-man timer (dead-man.ts) runs on the host when an installer run may
// have died during its kubelet restart. It takes the installer lock, so it waits for a live
// installer (the pod's own, when the timer fires early) and then finds nothing; otherwise it
// finishes the journal as the next installer run would (restart, health check, commit or roll
// back), and disarms the timer. One summary line on stderr (journald keeps it).
import { describeError, ProviderError } from '../errors.ts';
import { lockWaitMs, type RunContext } from './install.ts';
import { readJournal } from './journal.ts';
import { takeLock, tidy } from './lock.ts';
import { JOURNAL_FILE } from './paths.ts';
import { recoverJournal } from './transaction.ts';

export async function runRecover(ctx: RunContext): Promise<void> {
  const { fs } = ctx;
  const left = readJournal(fs);
  if (left === undefined) return ctx.log('info', `recover: no unfinished install or uninstall on this node (${JOURNAL_FILE} is absent): nothing to do`);
  if (ctx.dryRun) return await ctx.out(`an unfinished ${left.operation} stopped at "${left.phase}": recover would finish or roll it back\n`);
  // Longer than an installer's own wait: the holder may be in its last restart and health wait.
  const release = await takeLock(fs, 2 * lockWaitMs(ctx), (line) => ctx.log('info', line), ctx.signal);
  const createdDirs: string[] = [];
  try {
    const journal = readJournal(fs);
    if (journal === undefined) return ctx.log('info', 'recover: the installer that held the lock finished its run: nothing to do');
    if (journal.operation === 'uninstall') createdDirs.push(...journal.removeDirs); // the state directory kept them busy
    const found = `found an unfinished ${journal.operation} stopped at "${journal.phase}"`;
    try {
      await recoverJournal(ctx);
    } catch (error) {
      throw new ProviderError('install', `recover: ${found}: ${describeError(error)}`);
    }
    // Only a journal past its writes had a restart and a health check to finish.
    const outcome = journal.phase === 'applying' ? 'put the previous files back (the kubelet never ran with them)' : `finished it${journal.restart ? `, ${journal.restart.unit} healthy` : ''}`;
    ctx.log('info', `recover: ${found}: ${outcome}`);
  } finally {
    release();
    tidy(fs, createdDirs);
  }
}
