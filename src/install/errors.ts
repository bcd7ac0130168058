// One error type for the installer: a one-line message that says what to do. `usage` marks
// problems with the flags or the node (exit 2) as opposed to failures while changing it (exit 1).
export class InstallError extends Error {
  readonly usage: boolean;

  constructor(message: string, options?: { usage?: boolean }) {
    super(message);
    this.name = 'InstallError';
    this.usage = options?.usage ?? false;
  }
}
