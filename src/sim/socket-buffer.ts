/**
 * The receive buffers of paused processes. A stopped process (SIGSTOP, a long GC, a VM migration) does not read its
 * socket: datagrams queue in the kernel's buffer up to its size and the rest are dropped. On resume the process reads
 * them in arrival order. Only paused slots hold anything here.
 */
import type { Datagram } from './datagram.js';

export class SocketBuffers {
  /** Datagrams dropped because a buffer was full. */
  dropped = 0;
  private readonly from = new Map<number, number[]>();
  private readonly bufs = new Map<number, Datagram[]>();
  private readonly bytes = new Map<number, number>();

  constructor(private readonly capacityBytes: number) {}

  /** Queue a datagram for `slot`; false (and counted) when it does not fit. */
  put(slot: number, fromSlot: number, buf: Datagram): boolean {
    const used = this.bytes.get(slot) ?? 0;
    if (used + buf.length > this.capacityBytes) {
      this.dropped++;
      return false;
    }
    this.bytes.set(slot, used + buf.length);
    let f = this.from.get(slot);
    let b = this.bufs.get(slot);
    if (!f || !b) {
      this.from.set(slot, (f = []));
      this.bufs.set(slot, (b = []));
    }
    f.push(fromSlot);
    b.push(buf);
    return true;
  }

  /** Take everything queued for `slot`, oldest first. */
  take(slot: number): { from: number[]; bufs: Datagram[] } {
    const out = { from: this.from.get(slot) ?? [], bufs: this.bufs.get(slot) ?? [] };
    this.clear(slot);
    return out;
  }

  clear(slot: number): void {
    this.from.delete(slot);
    this.bufs.delete(slot);
    this.bytes.delete(slot);
  }
}
