/**
 * One base error with a stable `code` that scripts can match on. Local misuse (bad config, bad command arguments)
 * throws one of these; bad input from the network is never thrown: it is dropped and counted.
 */
export class KelipsError extends Error {
  readonly code: string = 'KELIPS_ERROR';
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A command was given arguments the protocol cannot accept (for example an over-long filename). */
export class InvalidArgumentError extends KelipsError {
  override readonly code = 'KELIPS_INVALID_ARGUMENT';
}

/** A table or queue is full; the operation was refused rather than growing without bound. */
export class LimitError extends KelipsError {
  override readonly code = 'KELIPS_LIMIT';
}
