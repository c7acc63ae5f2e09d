/**
 * The agent's data directory: what must survive a restart, including kill -9.
 *
 *   incarnation     {"format":1,"incarnation":N}: the last incarnation this node used. At start the new one is
 *                   max(stored + 1, floor(unix seconds)): always above anything the cluster may remember about the
 *                   previous run, even if the file was lost (then the clock carries it).
 *   published.json  {"format":1,"tuples":[...]}: the tuples this node published (and unpublished: tombstones), as
 *                   the core reports them; handed back to the core at the next start, which re-publishes them.
 *
 * Every write goes to a temporary file in the same directory, is fsynced, renamed over the old file and the
 * directory is fsynced: a crash leaves either the old or the new file, never a torn one. A file that still does not
 * parse (disk damage, a hand edit) stops the agent with a message naming it, rather than silently dropping what the
 * operator published.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { PublishedTuple } from '../core/api.js';
import { KelipsError } from '../core/errors.js';
import { makeDirectories } from './mkdirs.js';

export const INCARNATION_FILE = 'incarnation';
export const PUBLISHED_FILE = 'published.json';
const FORMAT = 1;

/** A data file exists but cannot be understood. */
export class CorruptFileError extends KelipsError {
  override readonly code = 'KELIPS_CORRUPT_FILE';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `data file ${file} is corrupt (${detail}); it was left untouched. ` +
        `Inspect it, or move it aside to start without it${file.endsWith(PUBLISHED_FILE) ? ' (the tuples it lists would then have to be published again)' : ''}.`,
    );
  }
}

/** The data directory cannot be created or written. */
export class DataDirError extends KelipsError {
  override readonly code = 'KELIPS_DATA_DIR';
}

export class DataDir {
  private readonly writer: CoalescingWriter;
  private snapshot: () => readonly PublishedTuple[] = () => [];

  private constructor(readonly path: string) {
    this.writer = new CoalescingWriter(() => this.writePublishedAsync(this.snapshot()));
  }

  /** Create the directory if needed, check that it is writable, remove temporary files a crash left behind. */
  static open(path: string): DataDir {
    try {
      makeDirectories(path, 0o750);
      for (const f of readdirSync(path))
        if (/^(incarnation|published\.json|\.probe)\.tmp-\d+(-\d+)?$/.test(f)) unlinkSync(join(path, f));
      const probe = join(path, `.probe.tmp-${process.pid}`);
      closeSync(openSync(probe, 'w'));
      unlinkSync(probe);
    } catch (err) {
      throw new DataDirError(`data directory ${path} is not usable: ${(err as Error).message}`);
    }
    return new DataDir(path);
  }

  /** The stored incarnation, or null when there is none (first start). */
  readIncarnation(): number | null {
    const file = join(this.path, INCARNATION_FILE);
    const obj = readJson(file);
    if (obj === undefined) return null;
    const n = (obj as { incarnation?: unknown }).incarnation;
    if ((obj as { format?: unknown }).format !== FORMAT || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new CorruptFileError(file, `expected {"format":${FORMAT},"incarnation":<non-negative integer>}`);
    return n;
  }

  /** Pick this start's incarnation (max(stored + 1, floor(unix seconds))) and persist it before it is used. */
  nextIncarnation(unixSeconds: number = Math.floor(Date.now() / 1000)): number {
    const stored = this.readIncarnation();
    const n = Math.max(stored === null ? 0 : stored + 1, Math.floor(unixSeconds));
    this.saveIncarnation(n);
    return n;
  }

  saveIncarnation(n: number): void {
    writeAtomicSync(join(this.path, INCARNATION_FILE), JSON.stringify({ format: FORMAT, incarnation: n }) + '\n');
  }

  /** The tuples published before the last stop, or [] on first start. */
  readPublished(): PublishedTuple[] {
    const file = join(this.path, PUBLISHED_FILE);
    const obj = readJson(file);
    if (obj === undefined) return [];
    const o = obj as { format?: unknown; tuples?: unknown };
    if (o.format !== FORMAT || !Array.isArray(o.tuples))
      throw new CorruptFileError(file, `expected {"format":${FORMAT},"tuples":[...]}`);
    return o.tuples.map((t, i) => {
      const problem = checkTuple(t);
      if (problem) throw new CorruptFileError(file, `tuple ${i}: ${problem}`);
      const v = t as PublishedTuple;
      return {
        name: v.name,
        location: v.location,
        versionIncarnation: v.versionIncarnation,
        versionSeq: v.versionSeq,
        deleted: v.deleted,
      };
    });
  }

  /** Where savePublished() reads the current tuples from (the core's publishedTuples()). */
  setPublishedSource(source: () => readonly PublishedTuple[]): void {
    this.snapshot = source;
  }

  /**
   * Persist the current published tuples. Resolves once a write that began after this call is on disk; concurrent
   * calls share writes, so a burst of publishes costs a few fsyncs, not one each.
   */
  savePublished(): Promise<void> {
    return this.writer.request();
  }

  /** Write synchronously (at exit, after the last publish has been acknowledged). */
  savePublishedSync(): void {
    writeAtomicSync(join(this.path, PUBLISHED_FILE), publishedText(this.snapshot()));
  }

  /** Wait for writes in progress. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  private async writePublishedAsync(tuples: readonly PublishedTuple[]): Promise<void> {
    await writeAtomic(join(this.path, PUBLISHED_FILE), publishedText(tuples));
  }
}

function publishedText(tuples: readonly PublishedTuple[]): string {
  const rows = tuples.map((t) =>
    JSON.stringify({
      name: t.name,
      location: t.location,
      versionIncarnation: t.versionIncarnation,
      versionSeq: t.versionSeq,
      deleted: t.deleted,
    }),
  );
  return `{"format":${FORMAT},"tuples":[${rows.length ? '\n' + rows.join(',\n') + '\n' : ''}]}\n`;
}

function checkTuple(t: unknown): string | null {
  if (typeof t !== 'object' || t === null) return 'not an object';
  const v = t as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name === '') return 'name must be a non-empty string';
  if (typeof v.location !== 'string') return 'location must be a string';
  for (const k of ['versionIncarnation', 'versionSeq'] as const) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return `${k} must be a non-negative integer`;
  }
  if (typeof v.deleted !== 'boolean') return 'deleted must be true or false';
  return null;
}

/** Parsed JSON of a file, undefined when it does not exist; CorruptFileError when it does not parse. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataDirError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (text.trim() === '') throw new CorruptFileError(file, 'the file is empty');
  try {
    const obj: unknown = JSON.parse(text);
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not a JSON object');
    return obj;
  } catch (err) {
    throw new CorruptFileError(file, (err as Error).message);
  }
}

let tmpCounter = 0;
function tmpName(file: string): string {
  return `${file}.tmp-${process.pid}-${++tmpCounter}`;
}

export function writeAtomicSync(file: string, text: string): void {
  const tmp = tmpName(file);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o640);
  try {
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncDirSync(file);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = tmpName(file);
  const fh = await open(tmp, 'w', 0o640);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  fsyncDirSync(file);
}

function fsyncDirSync(file: string): void {
  const dir = file.slice(0, file.lastIndexOf('/')) || '/';
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Runs `write` so that every request() is followed by a write that started after it; requests share writes. */
export class CoalescingWriter {
  private busy = false;
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly write: () => Promise<void>) {}

  request(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.kick();
    });
  }

  idle(): Promise<void> {
    if (!this.busy && this.waiting.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private kick(): void {
    if (this.busy) return;
    if (this.waiting.length === 0) {
      for (const r of this.idleWaiters.splice(0)) r();
      return;
    }
    const batch = this.waiting.splice(0);
    this.busy = true;
    this.write().then(
      () => {
        for (const w of batch) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    ).finally(() => {
      this.busy = false;
      this.kick();
    });
  }
}
