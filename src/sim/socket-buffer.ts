/**
 * The receive buffers of paused processes. A stopped process (SIGSTOP, a long GC, a VM migration) does not read its
 * socket: datagrams queue in the kernel's buffer up to its size and the rest are dropped. On resume the process reads
 * them in arrival order. Only paused slots hold anything here.
 */
import type { Datagram } from './datagram.js';

interface Buffered {
  from: number[];
  datagrams: Datagram[];
  bytes: number;
}

export class SocketBuffers {
  private readonly bySlot = new Map<number, Buffered>();

  constructor(private readonly capacityBytes: number) {}

  /** Queue a datagram for `slot`; false when it does not fit (the caller counts the drop). */
  put(slot: number, fromSlot: number, d: Datagram): boolean {
    let b = this.bySlot.get(slot);
    if (b === undefined) this.bySlot.set(slot, (b = { from: [], datagrams: [], bytes: 0 }));
    if (b.bytes + d.length > this.capacityBytes) return false;
    b.bytes += d.length;
    b.from.push(fromSlot);
    b.datagrams.push(d);
    return true;
  }

  /** Take everything queued for `slot`, oldest first. */
  take(slot: number): { from: number[]; datagrams: Datagram[] } {
    const b = this.bySlot.get(slot);
    this.bySlot.delete(slot);
    return b ?? { from: [], datagrams: [] };
  }

  clear(slot: number): void {
    this.bySlot.delete(slot);
  }
}
