// Writes the response to fd 1 synchronously (no stream set-up on the hot path); a
// non-blocking stdout that would block falls back to process.stdout.
import { writeSync } from 'node:fs';

export async function writeStdout(text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset, bytes.length - offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    const rest = bytes.subarray(offset);
    await new Promise<void>((resolve, reject) => process.stdout.write(rest, (e) => (e ? reject(e) : resolve())));
  }
}
