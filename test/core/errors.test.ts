/** Every error kelips throws on local misuse is a KelipsError with one stable code (scripts match on it). */
import { describe, expect, it } from 'vitest';
import { AgentConfigError } from '../../src/agent/config.js';
import { ApiError } from '../../src/agent/localapi.js';
import { CorruptFileError, DataDirError } from '../../src/agent/persistence.js';
import { NoAnswerError, RefusedError, UsageError } from '../../src/cli/errors.js';
import { ConfigError } from '../../src/core/config.js';
import { InvalidArgumentError, KelipsError, LimitError } from '../../src/core/errors.js';
import { ClientCode } from '../../src/wire/index.js';
import { WireEncodeError } from '../../src/wire/errors.js';

const TABLE: [string, () => KelipsError, string][] = [
  ['InvalidArgumentError', () => new InvalidArgumentError('m'), 'KELIPS_INVALID_ARGUMENT'],
  ['LimitError', () => new LimitError('m'), 'KELIPS_LIMIT'],
  ['ConfigError', () => new ConfigError('groups', { mustBe: 'an integer', got: 0 }), 'KELIPS_CONFIG'],
  ['AgentConfigError', () => new AgentConfigError('bind', 'm'), 'KELIPS_AGENT_CONFIG'],
  ['CorruptFileError', () => new CorruptFileError('/d/incarnation', 'm'), 'KELIPS_CORRUPT_FILE'],
  ['DataDirError', () => new DataDirError('m'), 'KELIPS_DATA_DIR'],
  ['ApiError', () => new ApiError('busy', 'm'), 'KELIPS_API'],
  ['WireEncodeError', () => new WireEncodeError('name', 'm'), 'KELIPS_WIRE_ENCODE'],
  ['UsageError', () => new UsageError('m'), 'KELIPS_USAGE'],
  ['NoAnswerError', () => new NoAnswerError('127.0.0.1:7946', 300), 'KELIPS_NO_ANSWER'],
  ['RefusedError', () => new RefusedError(ClientCode.Busy, 'm'), 'KELIPS_REFUSED'],
];

describe('error codes', () => {
  for (const [name, make, code] of TABLE) {
    it(`${name}: ${code}`, () => {
      const e = make();
      expect(e).toBeInstanceOf(KelipsError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(name);
      expect(e.code).toBe(code);
      expect(e.message).not.toBe('');
    });
  }

  it('no two classes share a code', () => {
    const codes = TABLE.map(([, , code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('keep what each class carries besides its code', () => {
    expect(new RefusedError(ClientCode.BadRequest, 'm').reply).toBe(ClientCode.BadRequest);
    expect(new ApiError('limit', 'm').apiCode).toBe('limit');
    expect(new NoAnswerError('127.0.0.1:1', 300).message).toBe(
      'no answer from 127.0.0.1:1 within 300 ms (is a kelips agent listening on that UDP address?)',
    );
    const c = new ConfigError('failMult', { mustBe: 'greater than', other: { field: 'suspectMult', value: 3 } });
    expect(c.message).toBe('config field "failMult": must be greater than suspectMult (3)');
    expect(new ConfigError('groups', { mustBe: 'an integer from 1 to 65535', got: 0 }).message).toBe(
      'config field "groups": must be an integer from 1 to 65535, got 0',
    );
    expect(new ConfigError('nope', { mustBe: 'a known field' }).message).toBe('config field "nope": unknown field');
  });
});
