// What a toxic is (after Toxiproxy's toxics/toxic.go): a small pipe that one link runs its
// chunks through, registered by type name. Optional capabilities are optional members:
// `newState` (stateful: per-link state that survives updates), `closesOnRemoval` (cleanup:
// removing the toxic closes the connection instead of flushing) and `validate`.
import type { Timer } from "../../pipeline/core/seam.ts";

/** `upstream` is client → server, `downstream` is server → client. */
export type Direction = "upstream" | "downstream";

/** A piece of one direction's byte stream, stamped with when the proxy read it (Clock ms). */
export interface Chunk {
  readonly data: Buffer;
  readAt: number;
}

/** How a stream ends: a FIN (`end`), a full close by a toxic (`close`) or a TCP RST (`reset`). */
export type EndKind = "end" | "close" | "reset";

/** What a toxic running on one link may do. Every method is inert once the toxic is stopped. */
export interface ToxicStub {
  /** Passes a chunk on towards the destination (through the toxics added after this one). */
  forward(chunk: Chunk): void;
  /** Passes on the end of the stream this toxic received. */
  end(): void;
  /** Ends the stream here and closes the connection once the end reaches the destination. */
  close(): void;
  /** Like close, but the connection is closed with a TCP RST on both sockets. */
  reset(): void;
  /** Drops a chunk: its bytes never reach the destination. */
  discard(chunk: Chunk): void;
  /** Runs `fn` after `ms`; cancelled automatically when the toxic stops. */
  after(ms: number, fn: () => void): Timer;
  now(): number;
  /** A float in [0, 1) from the proxy's (possibly seeded) random source. */
  random(): number;
}

/** One toxic running on one link. */
export interface ToxicPipe {
  receive(chunk: Chunk): void;
  /** The input ended; call `stub.end()` once done with the data held. */
  end(): void;
  /** Stops (timers are cancelled by the stub) and hands back the data still held, oldest first. */
  stop(): Chunk[];
}

export type Attributes<N extends string> = Readonly<Record<N, number>>;

export interface ToxicType<N extends string = string, S = unknown> {
  readonly type: string;
  /** Every attribute is a non-negative integer, 0 when missing; JSON echoes all of them. */
  readonly attributes: readonly N[];
  /** Removing the toxic closes the connections it ran on (Toxiproxy's CleanupToxic). */
  readonly closesOnRemoval?: boolean;
  /** Why these attribute values cannot run, or undefined when they can. */
  validate?(attributes: Attributes<N>): string | undefined;
  /** Per-link state kept across updates of the toxic (Toxiproxy's StatefulToxic). */
  newState?(): S;
  start(attributes: Attributes<N>, stub: ToxicStub, state: S): ToxicPipe;
}

const registry = new Map<string, ToxicType>();

export function registerToxic<N extends string, S>(toxic: ToxicType<N, S>): void {
  if (registry.has(toxic.type)) throw new Error(`toxic type "${toxic.type}" registered twice`);
  registry.set(toxic.type, toxic as unknown as ToxicType);
}

export function findToxicType(type: string): ToxicType | undefined {
  return registry.get(type);
}

export function toxicTypeNames(): string[] {
  return [...registry.keys()].sort();
}

/** The pipe of a toxic that lets everything through unchanged. */
export function passThrough(stub: ToxicStub): ToxicPipe {
  return {
    receive: (chunk) => stub.forward(chunk),
    end: () => stub.end(),
    stop: () => [],
  };
}
