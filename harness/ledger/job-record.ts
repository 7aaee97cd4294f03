// The harness's own record of the jobs (docs/architecture.md §5): every job change it asks the
// config service for — the workload's jobs at the start, config.add-job and its heal, reverts —
// with the time it asked and the time the service confirmed it. The ledger judges against this
// record, not against the service's /timeline: a service that forgets, rewrites or invents
// jobs (a restart with its data wiped, say) cannot move the ground truth. The service's own
// timeline is kept as a cross-check (crossCheckTimeline), and disagreements go in the verdict.
//
// A revert is modelled by the harness too: it goes back to the jobs of the newest earlier
// config that the harness saw published non-empty and valid, as the config faults document.

import { pairKey } from "../../pipeline/core/event.ts";
import { configuredPairs, parseForwardingConfig } from "../../pipeline/config/forwarding-config.ts";
import type { JobSpan } from "./ledger.ts";

export interface JobDefinition {
  tenant: string;
  dataset: string;
  destination: string;
}

export type JobChangeCause = "initial" | "config.add-job" | "config.add-job heal" | "config.revert";

export interface RecordedJobChange extends JobDefinition {
  enabled: boolean;
  cause: JobChangeCause;
  /** When the harness sent the request. */
  askedAt: number;
  /** When the config service confirmed it (2xx); null when no answer came (it may or may not hold). */
  confirmedAt: number | null;
}

/** A config the harness read from the config service: what the forwarder is being served. */
export interface SeenConfig {
  seenAt: number;
  version: number | null;
  /** The pairs it forwards; null when it is not a config at all (corrupt). */
  pairs: string[] | null;
}

/** What the harness asked for after one of its changes, and the config it then saw published. */
interface Snapshot {
  jobs: Map<string, JobDefinition>;
  config: SeenConfig | null;
}

/** Most changes kept: a limit where a runaway schedule would otherwise grow the record. */
const CHANGES_MAX = 100_000;

export class JobRecord {
  private readonly changes: RecordedJobChange[] = [];
  /** Enabled jobs by pair, as the harness asked for them. */
  private readonly enabled = new Map<string, JobDefinition>();
  private readonly snapshots: Snapshot[] = [];

  /** The jobs the topology starts with, in force from `at` (before any event is produced). */
  constructor(initial: readonly JobDefinition[], at: number) {
    for (const job of initial)
      this.push({ ...job, enabled: true, cause: "initial", askedAt: at, confirmedAt: at });
  }

  private push(change: RecordedJobChange): void {
    if (this.changes.length >= CHANGES_MAX) {
      throw new Error(`the job record holds ${CHANGES_MAX} changes, its limit`);
    }
    this.changes.push(change);
    const key = pairKey(change.tenant, change.dataset);
    if (change.enabled)
      this.enabled.set(key, {
        tenant: change.tenant,
        dataset: change.dataset,
        destination: change.destination,
      });
    else this.enabled.delete(key);
  }

  /** Records a change the harness asks for; call `settle` with the answer's time, or null. */
  ask(
    change: JobDefinition & { enabled: boolean; cause: JobChangeCause },
    askedAt: number,
  ): (confirmedAt: number | null) => void {
    return (confirmedAt) => this.push({ ...change, askedAt, confirmedAt });
  }

  /** How many pairs had a job at some time (the topology's and every one added since). */
  pairsEverEnabled(): number {
    const pairs = new Set<string>();
    for (const change of this.changes)
      if (change.enabled) pairs.add(pairKey(change.tenant, change.dataset));
    return pairs.size;
  }

  /** Whether the harness has a job enabled for the pair now. */
  has(tenant: string, dataset: string): boolean {
    return this.enabled.has(pairKey(tenant, dataset));
  }

  /** Remembers the config seen published after a change (or at the start), for reverts. */
  snapshot(config: SeenConfig | null): void {
    this.snapshots.push({ jobs: new Map(this.enabled), config });
  }

  /**
   * The changes a revert makes, by the harness's own model: back to the jobs of the newest
   * earlier snapshot whose published config forwarded something. Empty when there is none.
   */
  revertChanges(): Array<JobDefinition & { enabled: boolean }> {
    for (let index = this.snapshots.length - 2; index >= 0; index--) {
      const { jobs, config } = this.snapshots[index]!;
      if (config === null || config.pairs === null || config.pairs.length === 0) continue;
      const changes: Array<JobDefinition & { enabled: boolean }> = [];
      for (const [key, job] of this.enabled)
        if (!jobs.has(key)) changes.push({ ...job, enabled: false });
      for (const [key, job] of jobs) {
        const now = this.enabled.get(key);
        if (now === undefined || now.destination !== job.destination)
          changes.push({ ...job, enabled: true });
      }
      return changes;
    }
    return [];
  }

  all(): readonly RecordedJobChange[] {
    return this.changes;
  }

  /**
   * The spans the ledger judges against: a job is in force from when the service confirmed it
   * (when it asked, if no answer came), and every change is unsettled from when it was asked
   * until it was confirmed (to the end, if never).
   */
  spans(): JobSpan[] {
    const open = new Map<string, JobSpan>();
    const spans: JobSpan[] = [];
    const ordered = [...this.changes].sort((a, b) => effectiveAt(a) - effectiveAt(b));
    const unsettledByPair = new Map<string, Array<[number, number]>>();
    for (const change of ordered) {
      const key = pairKey(change.tenant, change.dataset);
      const at = effectiveAt(change);
      if (change.cause !== "initial") {
        let windows = unsettledByPair.get(key);
        if (windows === undefined) unsettledByPair.set(key, (windows = []));
        windows.push([change.askedAt, change.confirmedAt ?? Number.POSITIVE_INFINITY]);
      }
      const current = open.get(key);
      if (
        current !== undefined &&
        (!change.enabled || change.destination !== current.destination)
      ) {
        current.to = at;
        open.delete(key);
      }
      if (change.enabled && !open.has(key)) {
        const span: JobSpan = {
          tenant: change.tenant,
          dataset: change.dataset,
          destination: change.destination,
          from: at,
          to: null,
        };
        open.set(key, span);
        spans.push(span);
      }
    }
    for (const span of spans) {
      const windows = unsettledByPair.get(pairKey(span.tenant, span.dataset));
      if (windows !== undefined) span.unsettled = windows;
    }
    return spans;
  }
}

function effectiveAt(change: RecordedJobChange): number {
  return change.confirmedAt ?? change.askedAt;
}

/** Reads a config body as the harness sees it: its version and the pairs it forwards. */
export function readSeenConfig(body: string, seenAt: number): SeenConfig {
  const parsed = parseForwardingConfig(body);
  if (!parsed.ok) return { seenAt, version: parsed.version, pairs: null };
  return {
    seenAt,
    version: parsed.config.version,
    pairs: [...configuredPairs(parsed.config)].sort(),
  };
}

export interface TimelineDisagreement {
  tenant: string;
  dataset: string;
  /** The harness's record says this over [from, to]; the config service's timeline the opposite. */
  harness: "enabled" | "disabled";
  from: number;
  to: number;
}

const DISAGREEMENTS_MAX = 10;

/**
 * Compares the harness's spans with the config service's: every stretch longer than `graceMs`
 * within [since, until] where one says a pair's job was enabled and the other not.
 */
export function crossCheckTimeline(
  harness: readonly JobSpan[],
  service: readonly JobSpan[],
  graceMs: number,
  since: number,
  until: number,
): { disagreements: TimelineDisagreement[]; count: number } {
  const pairs = new Map<string, { tenant: string; dataset: string }>();
  for (const span of [...harness, ...service]) pairs.set(pairKey(span.tenant, span.dataset), span);
  const found: TimelineDisagreement[] = [];
  for (const [key, { tenant, dataset }] of [...pairs].sort(([a], [b]) => a.localeCompare(b))) {
    const ours = harness.filter((span) => pairKey(span.tenant, span.dataset) === key);
    const theirs = service.filter((span) => pairKey(span.tenant, span.dataset) === key);
    const bounds = [...ours, ...theirs].flatMap((span) => [span.from, span.to ?? until]);
    const instants = [...new Set([since, until, ...bounds])]
      .filter((at) => since <= at && at <= until)
      .sort((a, b) => a - b);
    for (let index = 0; index + 1 < instants.length; index++) {
      const from = instants[index]!;
      const to = instants[index + 1]!;
      const middle = (from + to) / 2;
      const inOurs = ours.some((span) => covers(span, middle, until));
      const inTheirs = theirs.some((span) => covers(span, middle, until));
      if (inOurs === inTheirs || to - from <= graceMs) continue;
      found.push({ tenant, dataset, harness: inOurs ? "enabled" : "disabled", from, to });
    }
  }
  return { disagreements: found.slice(0, DISAGREEMENTS_MAX), count: found.length };
}

function covers(span: JobSpan, at: number, until: number): boolean {
  return span.from <= at && at < (span.to ?? until);
}
