// The journal of one experiment run (JSON): every step with its times, the verdict with its
// figures, and whether the outcomes matched what the experiment expects of the profile.

import type { AbortRecord } from "./abort.ts";
import type { TimelineDisagreement } from "../ledger/job-record.ts";
import type { RunSeries } from "./series.ts";
import type { Counts } from "../ledger/ledger.ts";
import type {
  InvariantName,
  InvariantResult,
  InvariantStatus,
  TargetBounds,
} from "../invariants/types.ts";

export type RunStatus = "completed" | "failed" | "aborted" | "interrupted";

export interface JournalStep {
  phase: string;
  name: string;
  /** Milliseconds since the run started. */
  startedMs: number;
  endedMs: number;
  ok: boolean;
  detail?: string;
}

export interface Outcome {
  invariant: InvariantName;
  expected: "held" | "violated";
  actual: InvariantStatus;
  matched: boolean;
}

export interface Verdict {
  invariants: Partial<Record<InvariantName, InvariantResult>>;
  ledger: Counts;
  ledgerByTenant: Record<string, Counts>;
  /**
   * Where the ledger's job timeline came from (the harness's record of the changes it asked
   * for), and how the config service's own timeline compares with it.
   */
  jobTimeline?: {
    source: "harness";
    changes: number;
    crossCheck:
      | { agrees: boolean; disagreements: number; first: TimelineDisagreement[] }
      | { unreadable: string };
  };
  /** The ledger restricted to events produced between the first fault and the last heal. */
  incidentWindow: { fromMs: number; toMs: number; ledger: Counts; silentLossShare: number } | null;
  /** On a target (docs/targets.md): each routed egress's ledger, declared counts, the bounds. */
  target?: {
    name: string;
    variant: string | null;
    acknowledgement: string;
    egresses: Record<string, Counts>;
    declaredByCounter: number | null;
    bounds: TargetBounds;
  };
  figures: {
    produced: number;
    acknowledged: number;
    deliveredShare: number;
    silentLossShare: number;
    bufferHighWaterBytes: number;
    bufferHighWaterBuffers: number;
    bufferBoundBytes: number;
    bufferBoundBuffers: number;
    eventsPerSecond: number;
  };
}

export interface Journal {
  spillway: { version: string };
  experiment: string;
  description: string;
  profile: string;
  flaws: string[];
  runtime: "process" | "sim" | "container";
  seed: number;
  /**
   * aborted with `abort`: an abort condition tripped during the method (abort.ts); aborted
   * without it: the steady-state hypothesis did not hold before the method.
   */
  status: RunStatus;
  /** The abort condition that tripped and its reading; absent when none did. */
  abort?: AbortRecord;
  /** The steady-state hypothesis did not hold after the method. */
  deviated: boolean;
  /** Every checked invariant came out as expected for this profile. */
  asExpected: boolean;
  error?: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  steps: JournalStep[];
  notes: Array<{ atMs: number; message: string }>;
  verdict: Verdict | null;
  outcomes: Outcome[];
  /** The run's time series for reports (harness/experiment/series.ts); absent in older journals. */
  series?: RunSeries;
  /** Set when the run was on a target (docs/targets.md): which, which variant, what acked means. */
  target?: {
    name: string;
    file: string;
    variant: string | null;
    ingress: string;
    acknowledgement: string | null;
  };
}
