// The buffer's in-memory state: one FIFO of chunks per (tenant, dataset) pair, leases, and
// exact byte/count accounting with high-water marks (total bytes, buffers, and bytes of the
// fullest tenant). Pure bookkeeping; no I/O.

import { pairKey } from "../core/event.ts";

export interface Chunk {
  id: number;
  tenant: string;
  dataset: string;
  /** NDJSON event lines, each ending in "\n". */
  body: string;
  count: number;
  bytes: number;
  segment: string;
  /** Lease holding this chunk, or 0 when it is available. */
  leaseId: number;
  leaseUntil: number;
}

export interface Lease {
  id: number;
  key: string;
  chunks: Chunk[];
  until: number;
}

export interface HighWater {
  bytes: number;
  bytesAt: number;
  buffers: number;
  buffersAt: number;
  /** The most bytes any one tenant held, which tenant (null before any append) and when. */
  tenantBytes: number;
  tenant: string | null;
  tenantBytesAt: number;
}

class PairBuffer {
  readonly chunks: Chunk[] = [];
  bytes = 0;
}

export class BufferStore {
  private readonly buffers = new Map<string, PairBuffer>();
  private readonly tenantBytes = new Map<string, number>();
  private readonly leases = new Map<number, Lease>();
  private nextLeaseId = 1;
  totalBytes = 0;
  totalChunks = 0;
  readonly highWater: HighWater = {
    bytes: 0,
    bytesAt: 0,
    buffers: 0,
    buffersAt: 0,
    tenantBytes: 0,
    tenant: null,
    tenantBytesAt: 0,
  };

  get bufferCount(): number {
    return this.buffers.size;
  }

  hasBuffer(key: string): boolean {
    return this.buffers.has(key);
  }

  bytesOfTenant(tenant: string): number {
    return this.tenantBytes.get(tenant) ?? 0;
  }

  add(chunk: Chunk, now: number): void {
    const key = pairKey(chunk.tenant, chunk.dataset);
    let buffer = this.buffers.get(key);
    if (buffer === undefined) {
      buffer = new PairBuffer();
      this.buffers.set(key, buffer);
      if (this.buffers.size > this.highWater.buffers) {
        this.highWater.buffers = this.buffers.size;
        this.highWater.buffersAt = now;
      }
    }
    buffer.chunks.push(chunk);
    buffer.bytes += chunk.bytes;
    this.totalChunks++;
    const tenantHeld = this.bytesOfTenant(chunk.tenant) + chunk.bytes;
    this.tenantBytes.set(chunk.tenant, tenantHeld);
    if (tenantHeld > this.highWater.tenantBytes) {
      this.highWater.tenantBytes = tenantHeld;
      this.highWater.tenant = chunk.tenant;
      this.highWater.tenantBytesAt = now;
    }
    this.totalBytes += chunk.bytes;
    if (this.totalBytes > this.highWater.bytes) {
      this.highWater.bytes = this.totalBytes;
      this.highWater.bytesAt = now;
    }
  }

  /** Leases available chunks from the head of a pair's FIFO, up to maxBytes (at least one). */
  lease(key: string, maxBytes: number, now: number, leaseMs: number): Lease | undefined {
    const buffer = this.buffers.get(key);
    if (buffer === undefined) return undefined;
    const chunks: Chunk[] = [];
    let bytes = 0;
    for (const chunk of buffer.chunks) {
      if (chunk.leaseId !== 0 && chunk.leaseUntil > now) continue;
      if (chunks.length > 0 && bytes + chunk.bytes > maxBytes) break;
      chunks.push(chunk);
      bytes += chunk.bytes;
    }
    if (chunks.length === 0) return undefined;
    const lease: Lease = { id: this.nextLeaseId++, key, chunks, until: now + leaseMs };
    for (const chunk of chunks) {
      if (chunk.leaseId !== 0) this.leases.delete(chunk.leaseId);
      chunk.leaseId = lease.id;
      chunk.leaseUntil = lease.until;
    }
    this.leases.set(lease.id, lease);
    return lease;
  }

  /** Removes a lease's chunks; returns them, or undefined when the lease is unknown or lapsed. */
  ack(leaseId: number): Chunk[] | undefined {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return undefined;
    this.leases.delete(leaseId);
    const owned = lease.chunks.filter((chunk) => chunk.leaseId === leaseId);
    this.remove(this.buffers.get(lease.key)!, owned);
    return owned;
  }

  /** Makes a lease's chunks available again at once. */
  release(leaseId: number): boolean {
    const lease = this.leases.get(leaseId);
    if (lease === undefined) return false;
    this.leases.delete(leaseId);
    for (const chunk of lease.chunks) {
      if (chunk.leaseId === leaseId) {
        chunk.leaseId = 0;
        chunk.leaseUntil = 0;
      }
    }
    return true;
  }

  /** The pairs that have a buffer, emptied or not. */
  pairKeys(): string[] {
    return [...this.buffers.keys()];
  }

  /**
   * Removes a pair's chunks that no lease holds (never leased, released, or lapsed) and returns
   * them; a chunk under a live lease stays, so the push in flight can still ack it. A pair left
   * with no chunks loses its buffer, and its leases (all lapsed by then) are forgotten.
   */
  evict(key: string, now: number): Chunk[] {
    const buffer = this.buffers.get(key);
    if (buffer === undefined) return [];
    const evicted = buffer.chunks.filter((chunk) => chunk.leaseId === 0 || chunk.leaseUntil <= now);
    for (const chunk of evicted) if (chunk.leaseId !== 0) this.leases.delete(chunk.leaseId);
    this.remove(buffer, evicted);
    if (buffer.chunks.length === 0) {
      this.buffers.delete(key);
      for (const [id, lease] of this.leases) if (lease.key === key) this.leases.delete(id);
    }
    return evicted;
  }

  /** Takes chunks out of a pair's FIFO and out of every byte and chunk count. */
  private remove(buffer: PairBuffer, chunks: Chunk[]): void {
    const removed = new Set(chunks);
    const kept = buffer.chunks.filter((chunk) => !removed.has(chunk));
    buffer.chunks.length = 0;
    buffer.chunks.push(...kept);
    for (const chunk of chunks) {
      buffer.bytes -= chunk.bytes;
      this.totalBytes -= chunk.bytes;
      this.totalChunks--;
      this.tenantBytes.set(chunk.tenant, this.bytesOfTenant(chunk.tenant) - chunk.bytes);
    }
    this.assertAccounting(buffer);
  }

  pending(key: string): number {
    return this.buffers.get(key)?.chunks.length ?? 0;
  }

  /** Leases still in force at `now`: a lapsed one holds nothing (its chunks can be leased again). */
  liveLeaseCount(now: number): number {
    let live = 0;
    for (const lease of this.leases.values()) if (lease.until > now) live++;
    return live;
  }

  private assertAccounting(buffer: PairBuffer): void {
    if (buffer.bytes < 0 || this.totalBytes < 0 || this.totalChunks < 0) {
      throw new Error(
        `buffer accounting broke: pair bytes ${buffer.bytes}, total bytes ${this.totalBytes}, chunks ${this.totalChunks}`,
      );
    }
  }
}
