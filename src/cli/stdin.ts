// Reads the whole request from stdin, refusing oversized input before buffering it all.
import { RequestError } from '../kubelet/request.ts';

export function readStdin(maxBytes: number, stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) {
    return Promise.reject(new RequestError('no request on stdin: the kubelet writes a CredentialProviderRequest there; at a shell, pipe one in or use "get-credentials IMAGE"'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        stdin.destroy();
        reject(new RequestError(`request on stdin is larger than ${Math.round(maxBytes / 1024)} KiB`));
      } else {
        chunks.push(chunk);
      }
    });
    stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stdin.on('error', (error: NodeJS.ErrnoException) => reject(new RequestError(`cannot read stdin (${error.code ?? 'error'})`)));
  });
}
