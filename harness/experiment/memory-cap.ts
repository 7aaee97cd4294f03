// A service's memory cap: the one figure its memory is held against by the `memory` abort
// condition, the dry-run plan and the report's memory series (docs/architecture.md §6, "Abort
// conditions"), on the reference pipeline and on a target alike.
//
// A cap is what kills: the experiment's `topology.memoryCapMb`, which the runtime enforces
// (docs/targets.md, "Bounds": `memoryMbMax` is "a bound, not a cap"), so it comes first, whatever
// bound lies below or above it. A service the experiment does not cap is held against its bound
// instead: a target service's `memoryMbMax`, else, for the buffer, `maxBufferMemoryMb`. The
// bounds themselves are what `bounded-buffer` judges (docs/architecture.md §5), not this figure.

import type { Experiment } from "./definition.ts";

/** A service's memory cap in MB, of one run's experiment (and target); undefined: none. */
export type MemoryCap = (service: string) => number | undefined;

/** Where a service's memory bound comes from when the experiment sets no cap on it. */
export interface MemoryBounds {
  /** The service that plays the buffer, bound by `maxBufferMemoryMb`; null if none does. */
  bufferService: string | null;
  /** The service's own declared bound (a target service's `memoryMbMax`). */
  memoryMbMax?: number | undefined;
}

/** The memory cap of `service`, in MB; undefined when it has neither a cap nor a bound. */
export function memoryCapMb(
  experiment: Experiment,
  service: string,
  bounds: MemoryBounds,
): number | undefined {
  const { topology } = experiment;
  return (
    topology.memoryCapMb?.[service] ??
    bounds.memoryMbMax ??
    (service === bounds.bufferService ? topology.maxBufferMemoryMb : undefined)
  );
}

/** A service's memory cap on the reference pipeline, whose buffer is the service `buffer`. */
export function referenceMemoryCapMb(experiment: Experiment, service: string): number | undefined {
  return memoryCapMb(experiment, service, { bufferService: "buffer" });
}
