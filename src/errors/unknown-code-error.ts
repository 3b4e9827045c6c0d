/**
 * An error the other side answered with a code this side does not know (a newer daemon's or
 * server's): its message and code are kept as given. The CLI prints them and exits 1 (the
 * operation failed); an agent shows them in its link's status.
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
