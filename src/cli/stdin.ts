// Reads the whole request from stdin, refusing oversized input before buffering it all.
// Synchronous reads on fd 0: setting up process.stdin as a stream costs ~4 ms of start-up on
// every kubelet call. A non-blocking stdin (EAGAIN) falls back to the stream.
import { fstatSync, readSync, statSync } from 'node:fs';
import { RequestError } from '../kubelet/request.ts';

export async function readStdin(maxBytes: number): Promise<string> {
  if (stdinIsTerminal()) {
    throw new RequestError('no request on stdin: the kubelet writes a CredentialProviderRequest there; at a shell, pipe one in or use "get-credentials IMAGE"');
  }
  const buffer = Buffer.allocUnsafe(maxBytes + 1);
  let size = 0;
  try {
    for (;;) {
      const n = readSync(0, buffer, size, buffer.length - size, null);
      if (n === 0) return buffer.toString('utf8', 0, size);
      size += n;
      if (size > maxBytes) throw tooLarge(maxBytes);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return readStdinStream(maxBytes, buffer.subarray(0, size));
    if (code === 'EOF') return buffer.toString('utf8', 0, size);
    if (error instanceof RequestError) throw error;
    throw new RequestError(`cannot read stdin (${code ?? 'error'})`);
  }
}

function readStdinStream(maxBytes: number, already: Buffer): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [Buffer.from(already)];
    let size = already.length;
    stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stdin.destroy();
        reject(tooLarge(maxBytes));
      } else {
        chunks.push(chunk);
      }
    });
    stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stdin.on('error', (error: NodeJS.ErrnoException) => reject(new RequestError(`cannot read stdin (${error.code ?? 'error'})`)));
  });
}

/** node:tty's isatty would load net and streams on every call; a character device other
 *  than /dev/null on fd 0 is a terminal for our purposes. */
function stdinIsTerminal(): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.isCharacterDevice() && stdin.rdev !== statSync('/dev/null').rdev;
  } catch {
    return false;
  }
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError(`request on stdin is larger than ${Math.round(maxBytes / 1024)} KiB`);
}
