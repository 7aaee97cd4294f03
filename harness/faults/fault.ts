// The contract every fault follows (docs/architecture.md §4): a named kind in a family, parameters
// validated at the edge with zod, an `inject` that starts it, and the inverse that heals it.
// Fault kinds live one file per family (harness/faults/<family>.ts) and register in
// harness/faults/registry.ts.

import type { z } from "zod";
import type { RunningTopology } from "../runtime/runtime.ts";
import type { JobRecord } from "../ledger/job-record.ts";
import type { Workload } from "../workload/workload.ts";

export const FAULT_FAMILIES = ["network", "process", "config", "load", "sink"] as const;
export type FaultFamily = (typeof FAULT_FAMILIES)[number];

/** A proxied link's handle for network faults: the Toxiproxy proxy sitting on it. */
export interface LinkControl {
  /** Link names, `<service>->peer`, e.g. `forwarder->buffer`. */
  names(): string[];
  /** Adds a toxic on the link's proxy; resolves once it is in force. */
  addToxic(
    link: string,
    toxic: {
      name: string;
      type: string;
      stream: "upstream" | "downstream";
      toxicity?: number;
      attributes: Record<string, number>;
    },
  ): Promise<void>;
  removeToxic(link: string, name: string): Promise<void>;
  /** Disables (link down: listener closed, live connections dropped) or re-enables the proxy. */
  setEnabled(link: string, enabled: boolean): Promise<void>;
}

/** Everything a fault may act on while an experiment runs. */
export interface FaultContext {
  topology: RunningTopology;
  workload: Workload;
  /** Null when the topology runs without fault proxies (direct links). */
  links: LinkControl | null;
  /** The harness's own record of the job changes it asks for: the ledger's ground truth. */
  jobs: JobRecord;
  /** Records a line in the experiment's journal. */
  note(message: string): void;
}

/** A fault in force; `heal` applies its inverse and is safe to call more than once. */
export interface ActiveFault {
  heal(): Promise<void>;
}

export interface FaultKind<Schema extends z.ZodType = z.ZodType> {
  /** e.g. `process.kill`, `network.latency`, `config.add-job`. */
  readonly name: string;
  readonly family: FaultFamily;
  readonly summary: string;
  /** Parameters (without `kind`); errors must name the field. */
  readonly params: Schema;
  /** Services or links the parameters name, so experiment validation can check they exist. */
  targets(params: z.output<Schema>): { services?: string[]; links?: string[] };
  inject(context: FaultContext, params: z.output<Schema>): Promise<ActiveFault>;
}
