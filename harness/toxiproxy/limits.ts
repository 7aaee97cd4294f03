// A limit on everything (docs/architecture.md §9): every buffer, wait and body the fault proxy
// handles is bounded by a field of this one object.

export interface ToxiproxyLimits {
  /** Largest control-plane request body read; larger ones are refused with 400. */
  maxBodyBytes: number;
  /** A control-plane request (headers and body) not received in full within this time gets 408. */
  requestTimeoutMs: number;
  /**
   * Most bytes the toxics of one link (one direction of one connection) may hold before the
   * proxy stops reading that link's source; reading resumes below half of it. Toxiproxy's bound
   * is alike: 1024 chunks of up to 32 KiB. It is what caps throughput through a latency toxic:
   * at most this much per latency period (32 MiB per 100 ms: 335 MB/s).
   */
  linkHeldBytes: number;
  /**
   * The buffer each proxied socket reads into, reused from read to read (reader.ts): the most
   * one read returns. Larger than Node's own 64 KiB, so bulk transfers take fewer system calls
   * and events per byte. A socket starts with 64 KiB and takes this size once a read fills
   * that. Two per connection.
   */
  readBufferBytes: number;
  /** How long dialling an upstream may take before the client connection is closed. */
  upstreamConnectTimeoutMs: number;
  /** How long a closing connection may take to flush what it already forwarded. */
  closeFlushMs: number;
}

export const DEFAULT_TOXIPROXY_LIMITS: Readonly<ToxiproxyLimits> = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  linkHeldBytes: 32 * 1024 * 1024,
  readBufferBytes: 1024 * 1024,
  upstreamConnectTimeoutMs: 30_000,
  closeFlushMs: 10_000,
});
