// What every pipeline component looks like to its host (pipeline/host for real processes,
// the simulator for virtual ones): a request handler plus a lifecycle.

import type { Registry } from "prom-client";
import type { FlawSet } from "./flaws.ts";
import type { Limits } from "./limits.ts";
import type { Handler, Seam } from "./seam.ts";

export interface Component {
  readonly name: string;
  /** Serves every HTTP request, including /healthz, /metrics and /drops. */
  readonly handle: Handler;
  /** The Prometheus registry of this instance (never the global default registry). */
  readonly metrics: Registry;
  /** Recovers durable state and starts background loops; resolves once ready to serve. */
  start(): Promise<void>;
  /** Stops background loops and flushes what must be flushed; idempotent. */
  stop(): Promise<void>;
  /**
   * Bytes of data this instance holds in memory (the buffer's queued events), for the
   * simulator's memory model; real hosts measure RSS instead. Absent: nothing notable.
   */
  heldBytes?(): number;
}

/**
 * Base URLs of the other services this one calls, keyed by service name (`config`, `buffer`,
 * `sink-0`...), as this component must reach them: directly or through a fault proxy.
 */
export type Peers = Readonly<Record<string, string>>;

/** The URL of a required peer, or an Error naming the missing one. */
export function peerUrl(peers: Peers, name: string, component: string): string {
  const url = peers[name];
  if (url === undefined) {
    throw new Error(
      `${component} needs the address of "${name}" (--peers '{"${name}":"http://..."}')`,
    );
  }
  return url.replace(/\/+$/, "");
}

export interface ComponentOptions {
  seam: Seam;
  flaws: FlawSet;
  limits: Limits;
  peers: Peers;
  /** Instance name, used in logs, metrics labels and drop records (e.g. `sink-0`). */
  instance: string;
}
