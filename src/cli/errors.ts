/**
 * kelips-ctl's errors, each with one stable `code` (see src/core/errors.ts). `--json` prints the code with the
 * message, and the exit status follows from the class: usage 2, no answer 3, refused 2 (bad request) or 3.
 */
import { KelipsError } from '../core/errors.js';
import { ClientCode } from '../wire/index.js';

/** The command line cannot be carried out as written (unknown command, missing or bad argument). */
export class UsageError extends KelipsError {
  override readonly code = 'KELIPS_USAGE';
}

/** Nobody answered within the timeout. */
export class NoAnswerError extends KelipsError {
  override readonly code = 'KELIPS_NO_ANSWER';
  constructor(
    readonly node: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer from ${node} within ${timeoutMs} ms (is a kelips agent listening on that UDP address?)`);
  }
}

/**
 * The agent refused the request: `reply` is the wire reply code (bad request, busy, unavailable, redirect);
 * `redirect` is the member to ask instead when the agent named one.
 */
export class RefusedError extends KelipsError {
  override readonly code = 'KELIPS_REFUSED';
  constructor(
    readonly reply: ClientCode,
    message: string,
    readonly redirect: string | null = null,
  ) {
    super(message);
  }
}
