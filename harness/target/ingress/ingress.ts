// How the workload sends to a target (docs/targets.md, "Ingress"): each kind turns a batch of the
// workload's events into what the target's first hop speaks, and says what counts as the batch's
// acknowledgement. A batch settles as one outcome (acked, rejected or unknown), as over HTTP.

import type { BatchResult } from "../../workload/send-batch.ts";
import type { Batch } from "../../workload/batch.ts";

export const INGRESS_KINDS = ["http", "syslog", "redis-streams"] as const;
export type IngressKind = (typeof INGRESS_KINDS)[number];

export interface Ingress {
  readonly kind: IngressKind;
  /** What an acknowledgement means for this ingress, one sentence, stated in the verdict. */
  readonly acknowledgement: string;
  /** Sends one batch and settles it; never throws for a transport failure (that is an outcome). */
  send(batch: Batch): Promise<BatchResult>;
  /** Closes connections; batches in flight settle as unknown. Idempotent. */
  close(): Promise<void>;
}
