// What the invariants (docs/architecture.md §5) look at, and what they answer.

import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import type { LedgerReport } from "../ledger/ledger.ts";

export const INVARIANT_NAMES = [
  "no-silent-loss",
  "bounded-buffer",
  "tenant-isolation",
  "config-safety",
  "recovery",
] as const;
export type InvariantName = (typeof INVARIANT_NAMES)[number];
export type InvariantStatus = "held" | "violated" | "unknown";

export interface InvariantResult {
  name: InvariantName;
  status: InvariantStatus;
  /** One line a person can act on, e.g. "1,234 events lost silently across 3 tenants". */
  summary: string;
  /** The smallest evidence: counts per tenant, first lost ids, the high-water mark and when... */
  evidence: Record<string, unknown>;
}

/** One reading of the buffer's /stats (high-water marks are since that incarnation's start). */
export interface BufferSample {
  at: number;
  bytes: number;
  buffers: number;
  /** Batches leased to a pusher and not yet acked or lapsed (absent in older journals). */
  leases?: number;
  highWaterBytes: number;
  highWaterBytesAt: number;
  highWaterBuffers: number;
  highWaterBuffersAt: number;
  /** The most bytes one tenant held, which tenant and when; absent if /stats did not say. */
  highWaterTenant?: { tenant: string | null; bytes: number; at: number };
}

/** A service's memory went over a cap: the runtime's kill, or the buffer past its bound. */
export interface MemoryEvent {
  service: string;
  at: number;
  rssMb: number;
  capMb: number;
}

/**
 * A target's bounds, measured from outside (docs/targets.md, "Bounds"): the memory of each
 * service's process group against the MB it may use, and the backlog (acknowledged − delivered
 * − declared events) against its bound. Present only for targets; bounded-buffer judges these
 * instead of a buffer's /stats.
 */
export interface TargetBounds {
  memory: Array<{ service: string; peakMb: number | null; at: number | null; boundMb: number }>;
  backlog: { peakEvents: number; at: number | null; boundEvents: number | null; readings: number };
}

export interface Observations {
  ledger: LedgerReport;
  target?: TargetBounds;
  /** When the run started, on the clock of every `at` below: summaries say "+12.4 s". */
  startedAt?: number;
  /** Whether the pipeline drained after the faults healed (buffer empty, sinks quiet). */
  drained: boolean;
  /** Services whose declared drops could not be read: the ledger may miss declarations. */
  unreadableDrops: string[];
  /** Sinks whose records could not be read: the ledger misses their copies. */
  unreadableSinks?: string[];
  /**
   * no-silent-loss answers unknown rather than held when indeterminate events exceed this
   * share of the expected (absent: INDETERMINATE_SHARE_MAX_DEFAULT).
   */
  indeterminateShareMax?: number;
  buffer: {
    /** The buffer's service name: memory events of other services are not the buffer's. */
    service: string;
    samples: BufferSample[];
    /** The profile's bounds, whether or not the buffer enforces them (legacy does not). */
    bounds: {
      maxBufferBytes: number;
      maxTenantBytes: number;
      maxBuffers: number;
      maxMemoryMb: number;
    };
  };
  /**
   * Every service's memory events, each naming its service: kills by a memory cap, and the
   * buffer's RSS past maxMemoryMb.
   */
  memoryExceeded: MemoryEvent[];
  /** What the harness saw of the configs published and of what the forwarder did with events. */
  configSeen?: ConfigEvidence;
  /** The forwarder's config decisions over the whole run (across restarts): a cross-check. */
  configDecisions: ConfigDecision[];
  recovery: {
    /** When the last fault healed (null: no fault). */
    lastHealAt: number | null;
    /** When the buffer was first empty and every service healthy after that, or null. */
    recoveredAt: number | null;
    boundMs: number;
    /** Until when recovery was watched (absent: the last buffer sample's time). */
    observedUntil?: number | null;
    /**
     * The backlog (buffered bytes, acknowledged events not yet delivered or declared) before the
     * first fault, the most that counts as back to it, and the last reading: evidence.
     */
    backlog?: {
      preFault: { bytes: number; owedEvents: number };
      thresholds: { bytes: number; owedEvents: number };
      lastReading?: { at: number; bytes: number; owedEvents: number; healthy: boolean };
    };
  };
}

/** A stretch during which the newest config the harness read was invalid, and the events in it. */
export interface InvalidConfigWindow {
  version: number | null;
  /** Why the harness judges it invalid (not a config, empty, removes too many pairs at once). */
  reason: string;
  /** From when it was first read plus the forwarder's polling grace, to the next config read. */
  from: number;
  to: number;
  /** Events produced within the stretch that the ledger expected, and those of them lost. */
  expected: number;
  lost: number;
}

export interface ConfigEvidence {
  /** How many distinct configs the harness read from the config service. */
  read: number;
  invalid: InvalidConfigWindow[];
  /**
   * The most buffers the buffer held after the first invalid config, against the pairs that
   * ever had a job: more buffers than that means pairs with no job were forwarded (fail-open).
   */
  failOpen: { buffers: number; at: number; pairsWithJob: number } | null;
}

/** One invariant: what it answers from the observations of a run. */
export type InvariantCheck = (observations: Observations) => InvariantResult;
