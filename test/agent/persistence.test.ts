import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CoalescingWriter, CorruptFileError, DataDir, DataDirError } from '../../src/agent/persistence.js';
import type { PublishedTuple } from '../../src/core/api.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kelips-persist-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T: PublishedTuple[] = [
  { name: 'a.txt', location: 'http://h/a', versionIncarnation: 5, versionSeq: 1, deleted: false },
  { name: 'b.txt', location: '', versionIncarnation: 5, versionSeq: 2, deleted: true },
];

describe('data dir: incarnation', () => {
  it('starts at the unix time, then grows by one per start even if the clock does not', () => {
    const d = DataDir.open(join(tmp(), 'nested', 'dir'));
    expect(d.readIncarnation()).toBeNull();
    expect(d.nextIncarnation(1000)).toBe(1000);
    expect(d.nextIncarnation(1000)).toBe(1001);
    expect(d.nextIncarnation(999)).toBe(1002); // clock went back
    expect(d.nextIncarnation(5000)).toBe(5000); // file older than the clock
    expect(DataDir.open(d.path).readIncarnation()).toBe(5000);
  });

  it('persists a bumped incarnation', () => {
    const d = DataDir.open(tmp());
    d.saveIncarnation(42);
    expect(d.nextIncarnation(1)).toBe(43);
  });

  const corrupt: [string, string, RegExp][] = [
    ['empty', '', /is empty/],
    ['torn JSON', '{"format":1,"incarn', /JSON|Unterminated|Unexpected/],
    ['wrong shape', '{"format":1,"incarnation":-3}', /expected \{"format":1,"incarnation"/],
    ['wrong format', '{"format":9,"incarnation":3}', /expected/],
    ['not an object', '17', /not a JSON object/],
  ];
  for (const [what, text, re] of corrupt) {
    it(`reports a corrupt incarnation file (${what}) by name and leaves it untouched`, () => {
      const dir = tmp();
      writeFileSync(join(dir, 'incarnation'), text);
      const d = DataDir.open(dir);
      let err: unknown;
      try {
        d.nextIncarnation(100);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CorruptFileError);
      expect((err as Error).message).toContain(join(dir, 'incarnation'));
      expect((err as Error).message).toMatch(re);
      expect((err as CorruptFileError).code).toBe('KELIPS_CORRUPT_FILE');
      expect(readFileSync(join(dir, 'incarnation'), 'utf8')).toBe(text);
    });
  }
});

describe('data dir: published tuples', () => {
  it('round-trips published tuples and tombstones', async () => {
    const d = DataDir.open(tmp());
    expect(d.readPublished()).toEqual([]);
    d.setPublishedSource(() => T);
    await d.savePublished();
    expect(DataDir.open(d.path).readPublished()).toEqual(T);
    d.setPublishedSource(() => T.slice(1));
    d.savePublishedSync();
    expect(DataDir.open(d.path).readPublished()).toEqual(T.slice(1));
  });

  it('leaves no temporary files, and removes those a crash left behind', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'published.json.tmp-123-4'), '{"format":1,"tup');
    writeFileSync(join(dir, 'unrelated.tmp-1'), 'keep me');
    const d = DataDir.open(dir);
    d.setPublishedSource(() => T);
    await Promise.all([d.savePublished(), d.savePublished(), d.savePublished()]);
    d.nextIncarnation(7);
    expect(readdirSync(dir).sort()).toEqual(['incarnation', 'published.json', 'unrelated.tmp-1']);
  });

  it('a torn write (temp file only) never replaces the good file', async () => {
    const dir = tmp();
    const d = DataDir.open(dir);
    d.setPublishedSource(() => T);
    await d.savePublished();
    // A crash between write and rename leaves the temp file: the real file is the previous, whole version.
    writeFileSync(join(dir, 'published.json.tmp-99-1'), '{"format":1,"tuples":[{"name":"c');
    expect(DataDir.open(dir).readPublished()).toEqual(T);
  });

  const corrupt: [string, string, RegExp][] = [
    ['truncated', '{"format":1,"tuples":[{"name":"a.txt","loc', /JSON|Unterminated|Unexpected/],
    ['missing tuples', '{"format":1}', /expected \{"format":1,"tuples"/],
    ['bad tuple', '{"format":1,"tuples":[{"name":"a","location":"l","versionIncarnation":1,"versionSeq":"x","deleted":false}]}', /tuple 0: versionSeq must be a non-negative integer/],
    ['empty name', '{"format":1,"tuples":[{"name":"","location":"l","versionIncarnation":1,"versionSeq":1,"deleted":false}]}', /tuple 0: name/],
  ];
  for (const [what, text, re] of corrupt) {
    it(`reports a corrupt published.json (${what}) by name`, () => {
      const dir = tmp();
      writeFileSync(join(dir, 'published.json'), text);
      const d = DataDir.open(dir);
      expect(() => d.readPublished()).toThrow(CorruptFileError);
      expect(() => d.readPublished()).toThrow(re);
      expect(() => d.readPublished()).toThrow(/published again/);
      expect(readFileSync(join(dir, 'published.json'), 'utf8')).toBe(text);
    });
  }

  it('refuses a data dir it cannot write', () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path under a regular file instead
      const dir = tmp();
      writeFileSync(join(dir, 'file'), 'x');
      expect(() => DataDir.open(join(dir, 'file', 'sub'))).toThrow(DataDirError);
      return;
    }
    const dir = tmp();
    chmodSync(dir, 0o500);
    expect(() => DataDir.open(dir)).toThrow(/not usable/);
  });
});

describe('CoalescingWriter', () => {
  it('every request is followed by a write that started after it; requests share writes', async () => {
    let writes = 0;
    let value = 0;
    const seen: number[] = [];
    let release: (() => void) | null = null;
    const w = new CoalescingWriter(async () => {
      writes++;
      const snapshot = value;
      await new Promise<void>((r) => (release = r));
      seen.push(snapshot);
    });
    value = 1;
    const p1 = w.request();
    value = 2;
    const p2 = w.request(); // while the first write is running: needs a second write
    value = 3;
    const p3 = w.request(); // shares the second write
    await new Promise((r) => setImmediate(r));
    release!();
    await p1;
    await new Promise((r) => setImmediate(r));
    release!();
    await Promise.all([p2, p3]);
    expect(writes).toBe(2);
    expect(seen).toEqual([1, 3]);
    await w.idle();
  });
});
