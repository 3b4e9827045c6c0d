/**
 * An error the daemon answered with a code this CLI does not know (a newer daemon's): the message
 * and the code are printed as given, and the command exits 1 (the operation failed).
 */
export class UnknownCodeError extends Error {
  readonly exitCode = 1;

  constructor(
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'UnknownCodeError';
  }
}
