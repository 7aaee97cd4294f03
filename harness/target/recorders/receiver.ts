// One way a recorder receives what a target's pipeline sends (docs/targets.md, "Egress"): syslog
// over TCP, HTTP, a file the pipeline writes, a Redis stream. Each finds the events' identity
// tokens in whatever arrives and hands them to the record log; none ever decides loss.

import type { Registry } from "prom-client";
import type { Router } from "../../../pipeline/core/http.ts";
import type { Clock, Log } from "../../../pipeline/core/seam.ts";
import type { RecordLog } from "./record-log.ts";

export const RECORDER_KINDS = ["syslog", "http", "file", "redis-streams"] as const;
export type RecorderKind = (typeof RECORDER_KINDS)[number];

export interface ReceiverContext {
  records: RecordLog;
  /** Where the source resumes, as its last record said (file: the offset read up to). */
  resumeAt: unknown;
  clock: Clock;
  log: Log;
  metrics: Registry;
}

export interface Receiver {
  /** Starts receiving; resolves once it listens (or, for a client, once it has begun trying). */
  start(): Promise<void>;
  /** Stops receiving; resolves once what had arrived is recorded. Idempotent. */
  close(): Promise<void>;
  /** Details for /healthz. */
  health(): Record<string, unknown>;
  /** Admin routes of its own (the HTTP recorder's /fault). */
  addRoutes?(router: Router): void;
}
