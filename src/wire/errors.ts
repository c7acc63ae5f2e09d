import { KelipsError } from '../core/errors.js';

/**
 * Local misuse of the wire codec: a message that the protocol could not carry (an address that is not a canonical
 * "ip:port", a field out of its range, a datagram longer than the limit). Bad input from the network is never thrown:
 * `decode` returns a rejection instead.
 */
export class WireEncodeError extends KelipsError {
  override readonly code = 'KELIPS_WIRE_ENCODE';
  /** The offending field, as `decode` would name it ("members[3].incarnation"); '' when not about one field. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(field === '' ? message : `${field}: ${message}`);
    this.field = field;
  }
}
