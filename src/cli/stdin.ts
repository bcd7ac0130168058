// Reads the whole request from stdin, refusing oversized input before buffering it all, and never
// past the invocation's deadline: a caller that never closes stdin gets one line, not a hang.
//
// The kubelet's stdin is a pipe. Reopening it through /proc/self/fd/0 with O_NONBLOCK gives a
// descriptor of the same pipe that never blocks (fd 0 itself is left as it is: the flag would be
// shared with whoever else holds its description), so the common case stays a few synchronous
// reads: setting up process.stdin as a stream costs start-up time on every kubelet call. When the
// request is not all there yet (EAGAIN), or stdin is a socket, the stream on fd 0 takes over,
// under a timer. Any other stream (a test's, in process) is read by the same timed stream reader.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { ProviderError } from '../errors.ts';

export interface StdinDeadline {
  /** Time left for reading. */
  remainingMs: number;
  /** The configured timeout, for the message. */
  timeoutMs: number;
}

/** Reads a whole request: at most `maxBytes`, within the deadline. */
export type RequestReader = (maxBytes: number, deadline: StdinDeadline) => Promise<string>;

/** A RequestReader over any readable stream (as the AWS plugin's runPlugin takes an io.Reader). */
export function streamReader(stream: NodeJS.ReadableStream): RequestReader {
  return (maxBytes, deadline) => readStream(stream, maxBytes, Buffer.alloc(0), deadline);
}

/** The process's stdin: fd 0 read without blocking when it can be, else as a stream. */
export const readStdin: RequestReader = async (maxBytes, deadline) => {
  const kind = stdinKind();
  if (kind === 'terminal') {
    throw new ProviderError('input', 'no request on stdin: the kubelet writes a CredentialProviderRequest there; at a shell, pipe one in or use "get-credentials IMAGE"');
  }
  const startedAt = Date.now();
  const streamFrom = (already: Buffer) => readStream(process.stdin, maxBytes, already, { ...deadline, remainingMs: deadline.remainingMs - (Date.now() - startedAt) });
  const buffer = Buffer.allocUnsafe(maxBytes + 1);
  // A file or /dev/null never blocks; a pipe is read through a non-blocking twin of fd 0.
  const fd = kind === 'pipe' ? reopenNonBlocking() : kind === 'file' ? 0 : undefined;
  if (fd === undefined) return streamFrom(buffer.subarray(0, 0));
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, size, buffer.length - size, null);
      if (n === 0) return buffer.toString('utf8', 0, size);
      size += n;
      if (size > maxBytes) throw tooLarge(maxBytes);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') return streamFrom(buffer.subarray(0, size));
    if (code === 'EOF') return buffer.toString('utf8', 0, size);
    if (error instanceof ProviderError) throw error;
    throw new ProviderError('input', `cannot read stdin (${code ?? 'error'})`);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
};

/** A non-blocking descriptor of the pipe on fd 0; undefined when it cannot be reopened. */
function reopenNonBlocking(): number | undefined {
  try {
    return openSync('/proc/self/fd/0', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/**
 * What fd 0 is. node:tty's isatty would load net and streams on every call; a character device
 * other than /dev/null is a terminal for our purposes. A socket (what Node gives a child for
 * "pipe" stdio) and anything unknown is read as a stream.
 */
function stdinKind(): 'terminal' | 'pipe' | 'file' | 'stream' {
  try {
    const stdin = fstatSync(0);
    if (stdin.isFIFO()) return 'pipe';
    if (stdin.isFile()) return 'file';
    if (stdin.isCharacterDevice()) return stdin.rdev === statSync('/dev/null').rdev ? 'file' : 'terminal';
    return 'stream';
  } catch {
    return 'stream';
  }
}

function readStream(stdin: NodeJS.ReadableStream & { destroy?: () => void }, maxBytes: number, already: Buffer, deadline: StdinDeadline): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [Buffer.from(already)];
    let size = already.length;
    const fail = (error: Error): void => {
      clearTimeout(timer);
      stdin.destroy?.();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ProviderError('deadline', `no complete request on stdin within the ${deadline.timeoutMs / 1000}s deadline (timeout): the caller did not close stdin`)), Math.max(0, deadline.remainingMs));
    stdin.on('data', (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      size += chunk.length;
      if (size > maxBytes) fail(tooLarge(maxBytes));
      else chunks.push(chunk);
    });
    stdin.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    stdin.on('error', (error: NodeJS.ErrnoException) => fail(new ProviderError('input', `cannot read stdin (${error.code ?? 'error'})`)));
  });
}

function tooLarge(maxBytes: number): ProviderError {
  return new ProviderError('input', `request on stdin is larger than ${Math.round(maxBytes / 1024)} KiB`);
}
