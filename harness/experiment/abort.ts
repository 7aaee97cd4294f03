// Abort conditions (docs/architecture.md §6, "Abort conditions"): the experiment's brake. Each
// condition is checked on the run's clock from the start of the method until the faults' time
// ends (the heals begin), from what the harness itself observes: the buffer's readings (or a
// target's backlog measured from outside), every service's health probe, each service's memory
// (the OS's RSS, or the simulator's model), and the events the producer saw acknowledged that
// have neither arrived nor been declared dropped. When one trips, the method stops (no further
// fault), and the run ends as usual: every fault healed, the rollbacks, the drain, the verdict;
// the journal says `aborted`, with the condition and the reading.

import { z } from "zod";
import type { HealthReading } from "./observer.ts";
import { durationSchema, formatDuration } from "./duration.ts";
import { AbortTripped, type RunState } from "./run-state.ts";
import { every } from "../runtime/every.ts";
import { count } from "../invariants/format.ts";

/** How often the conditions are checked, on the run's clock. */
const CHECK_EVERY_MS = 250;
/** How often the silent-loss reading is taken (it reads the sinks and settles a ledger). */
const SILENT_LOSS_EVERY_MS = 1_000;
/** The default age past which an acknowledged event not yet delivered counts as missing. */
const SILENT_LOSS_OLDER_THAN_MS_DEFAULT = 5_000;
const SHARE_MAX = 1_000;

const positiveShare = {
  error: `expected a share above 0 (1.5 is 150%), at most ${SHARE_MAX}`,
};
const shareSchema = z.number(positiveShare).gt(0, positiveShare).max(SHARE_MAX, positiveShare);
const serviceSchema = z.string({ error: "expected a service's name" }).min(1);

const CONDITION_KINDS = ["silentLoss", "buffer", "unhealthy", "memory"] as const;
type AbortConditionKind = (typeof CONDITION_KINDS)[number];

/** One condition: an object with exactly one of the kinds as its key. */
export const abortConditionSchema = z
  .strictObject({
    /** Acknowledged events produced more than `olderThan` ago, neither delivered nor declared. */
    silentLoss: z
      .strictObject({
        aboveEvents: z.number().int().min(0),
        olderThan: durationSchema.default(SILENT_LOSS_OLDER_THAN_MS_DEFAULT),
      })
      .optional(),
    /** The buffer's bytes held (a target's backlog of events) above this share of its bound. */
    buffer: z.strictObject({ aboveBoundShare: shareSchema }).optional(),
    /** A service failing its health probe for longer than this. */
    unhealthy: z.strictObject({ service: serviceSchema, longerThan: durationSchema }).optional(),
    /** A service's memory above this share of its cap. */
    memory: z.strictObject({ service: serviceSchema, aboveCapShare: shareSchema }).optional(),
  })
  .superRefine((condition, context) => {
    const kinds = CONDITION_KINDS.filter((kind) => condition[kind] !== undefined);
    if (kinds.length !== 1)
      context.addIssue({
        code: "custom",
        input: condition,
        message: `expected exactly one of ${CONDITION_KINDS.join(", ")}`,
      });
  });

export type AbortCondition = z.output<typeof abortConditionSchema>;

export const abortSchema = z.array(abortConditionSchema).max(50).default([]);

/** The reading that tripped a condition. */
export interface AbortReading {
  value: number;
  bound: number;
  unit: "events" | "bytes" | "ms" | "MB";
  /** Milliseconds since the run started. */
  atMs: number;
  service?: string;
}

/** What the journal says of the condition that tripped (journal.ts, `abort`). */
export interface AbortRecord {
  /** The condition as the experiment gives it (durations in ms). */
  condition: AbortCondition;
  text: string;
  reading: AbortReading;
}

function conditionKind(condition: AbortCondition): AbortConditionKind {
  return CONDITION_KINDS.find((kind) => condition[kind] !== undefined)!;
}

/** The service a condition names, if it names one. */
function conditionService(condition: AbortCondition): string | undefined {
  return condition.unhealthy?.service ?? condition.memory?.service;
}

export function formatCondition(condition: AbortCondition): string {
  const { silentLoss, buffer, unhealthy, memory } = condition;
  if (silentLoss !== undefined)
    return `silent loss above ${silentLoss.aboveEvents} events (acknowledged more than ${formatDuration(silentLoss.olderThan)} ago, neither delivered nor declared dropped)`;
  if (buffer !== undefined) return `buffer above ${buffer.aboveBoundShare} × its bound`;
  if (unhealthy !== undefined)
    return `${unhealthy.service} unhealthy longer than ${formatDuration(unhealthy.longerThan)}`;
  return `${memory!.service} memory above ${memory!.aboveCapShare} × its cap`;
}

function formatReading(reading: AbortReading): string {
  const amount = (value: number): string =>
    reading.unit === "ms"
      ? formatDuration(value)
      : reading.unit === "MB"
        ? `${value.toFixed(1)} MB`
        : `${count(value)} ${reading.unit}`;
  const where = reading.service === undefined ? "" : `${reading.service}: `;
  return `${where}${amount(reading.value)} > ${amount(reading.bound)} at ${formatDuration(reading.atMs)}`;
}

/** One line for a person: the condition and the reading that tripped it. */
export function formatAbort(record: AbortRecord): string {
  return `${record.text}: ${formatReading(record.reading)}`;
}

/**
 * What each kind of condition reads, given by the runner (the reference pipeline's or a
 * target's). A reading that cannot be taken now is undefined: the condition is not judged on it.
 */
export interface AbortSources {
  /** The buffer's (or backlog's) latest reading and the bound it is held to. */
  buffer(): Promise<
    { value: number; bound: number; unit: "bytes" | "events"; service?: string } | undefined
  >;
  /** Every health reading so far, oldest first (the observer's). */
  health(): readonly HealthReading[];
  /** A service's memory now, in MB. */
  memoryMb(service: string): Promise<number | undefined>;
  /** The cap a service's memory share is taken of, in MB (the load checked there is one). */
  memoryCapMb(service: string): number | undefined;
  /**
   * Acknowledged events produced more than `olderThanMs` ago, neither delivered nor declared
   * dropped; absent where the run cannot read it while running (the load refuses the condition).
   */
  missingEvents?(olderThanMs: number): Promise<number | undefined>;
}

/** Problems of the conditions against the services the run has and what its sources can read. */
export function abortProblems(
  conditions: readonly AbortCondition[],
  services: ReadonlySet<string>,
  can: {
    silentLoss: string | null;
    buffer: string | null;
    memoryCap: (service: string) => boolean;
  },
): string[] {
  return conditions.flatMap((condition, index) => {
    const kind = conditionKind(condition);
    const where = `abort[${index}].${kind}`;
    const service = conditionService(condition);
    if (service !== undefined && !services.has(service))
      return [
        `${where}.service: ${JSON.stringify(service)}: expected one of ${[...services].join(", ")}`,
      ];
    if (kind === "silentLoss" && can.silentLoss !== null) return [`${where}: ${can.silentLoss}`];
    if (kind === "buffer" && can.buffer !== null) return [`${where}: ${can.buffer}`];
    if (kind === "memory" && !can.memoryCap(service!))
      return [
        `${where}.service: ${JSON.stringify(service)}: has no memory cap; expected topology.memoryCapMb.${service} (or, on a target, the service's memoryMbMax)`,
      ];
    return [];
  });
}

/** Per service, since when its health probe has failed without a pass in between. */
class UnhealthySince {
  private readonly since = new Map<string, number>();
  private lastAt = Number.NEGATIVE_INFINITY;

  /** Takes the readings newer than the last seen; returns how long `service` has been down. */
  downFor(readings: readonly HealthReading[], service: string, now: number): number {
    for (const reading of readings) {
      if (reading.at <= this.lastAt) continue;
      this.lastAt = reading.at;
      for (const name of [...this.since.keys()])
        if (!reading.unhealthy.includes(name)) this.since.delete(name);
      for (const name of reading.unhealthy)
        if (!this.since.has(name)) this.since.set(name, reading.at);
    }
    const from = this.since.get(service);
    return from === undefined ? 0 : now - from;
  }
}

/** Checks the conditions at each tick; the first that trips is kept on the run's state. */
class AbortMonitor {
  private readonly state: RunState;
  private readonly sources: AbortSources;
  private readonly health = new UnhealthySince();
  /** When each silent-loss condition last read the sinks (each is read at most once a second). */
  private readonly silentLossReadAt = new Map<AbortCondition, number>();
  private checking = false;
  private stopped = false;

  constructor(state: RunState, sources: AbortSources) {
    this.state = state;
    this.sources = sources;
  }

  async check(): Promise<void> {
    if (this.checking || this.state.abort !== null) return;
    this.checking = true;
    try {
      for (const condition of this.state.experiment.abort) {
        const reading = await this.read(condition).catch(() => undefined);
        if (this.stopped) return;
        if (reading === undefined || reading.value <= reading.bound) continue;
        this.state.tripAbort({ condition, text: formatCondition(condition), reading });
        return;
      }
    } finally {
      this.checking = false;
    }
  }

  /** No condition trips after this: the faults' time is over. */
  stop(): void {
    this.stopped = true;
  }

  private async read(condition: AbortCondition): Promise<AbortReading | undefined> {
    const { state, sources } = this;
    const now = state.clock.now();
    const atMs = now - state.started;
    const { silentLoss, buffer, unhealthy, memory } = condition;
    if (buffer !== undefined) {
      const held = await sources.buffer();
      if (held === undefined) return undefined;
      const { value, unit, service } = held;
      const bound = held.bound * buffer.aboveBoundShare;
      return { value, bound, unit, atMs, ...(service === undefined ? {} : { service }) };
    }
    if (unhealthy !== undefined) {
      const { service, longerThan } = unhealthy;
      const value = this.health.downFor(sources.health(), service, now);
      return { value, bound: longerThan, unit: "ms", atMs, service };
    }
    if (memory !== undefined) {
      const value = await sources.memoryMb(memory.service);
      const cap = sources.memoryCapMb(memory.service);
      if (value === undefined || cap === undefined) return undefined;
      const bound = cap * memory.aboveCapShare;
      return { value, bound, unit: "MB", atMs, service: memory.service };
    }
    const readAt = this.silentLossReadAt.get(condition) ?? Number.NEGATIVE_INFINITY;
    if (now - readAt < SILENT_LOSS_EVERY_MS) return undefined;
    this.silentLossReadAt.set(condition, now);
    const value = await sources.missingEvents?.(silentLoss!.olderThan);
    if (value === undefined) return undefined;
    return { value, bound: silentLoss!.aboveEvents, unit: "events", atMs };
  }
}

/**
 * Runs `during` (the method and the rest of the faults' time) with the experiment's abort
 * conditions checked every CHECK_EVERY_MS. When one trips, the run is halted: its waits end,
 * a facilitator's too (AbortTripped), and this returns normally: the caller goes on to heal,
 * roll back, drain and judge.
 */
export async function watchAbortConditions(
  state: RunState,
  sources: AbortSources,
  during: () => Promise<void>,
): Promise<void> {
  if (state.experiment.abort.length === 0) return during();
  const monitor = new AbortMonitor(state, sources);
  const timer = every(state.clock, CHECK_EVERY_MS, () => void monitor.check());
  const release = state.haltOnAbort();
  try {
    await during();
  } catch (failure) {
    if (!(failure instanceof AbortTripped)) throw failure;
  } finally {
    release();
    timer.cancel();
    monitor.stop();
  }
}
