// A payload directory or its manifest is not what it must be, or a wrapper cannot be written for
// the given directory. The message is one line that names what is wrong.
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}
