/** A mistake by the user (bad flag, unreadable file, malformed input): printed as one line, exit 2. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}
