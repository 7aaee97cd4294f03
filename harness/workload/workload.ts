// The workload generator: the edge that produces events for the pipeline. It paces production
// with a token bucket on the injected Clock (one wake-up per flush interval, never a busy
// loop), composes batches (batch.ts), sends them with bounded retries (send-batch.ts), keeps at
// most `concurrency` batches in flight, and records every outcome per stream (record.ts).
// Everything it touches from outside comes through the seam, so under the simulator one seed
// gives one run.

import { DEFAULT_LIMITS, type Limits } from "../../pipeline/core/limits.ts";
import type { Clock, Log, Net, Rng } from "../../pipeline/core/seam.ts";
import { BatchBuilder, type Batch } from "./batch.ts";
import {
  resolveWorkloadOptions,
  type WorkloadOptions,
  type WorkloadOptionsInput,
} from "./options.ts";
import { WorkloadRecord, type OutcomeCounts } from "./record.ts";
import { sendBatch, type BatchResult, type SendContext } from "./send-batch.ts";
import {
  checkMultiplier,
  plannedJobs,
  selectJobTenants,
  TenantSampler,
  type PlannedJob,
} from "./tenants.ts";
import { Timeline } from "./timeline.ts";
import { Waits } from "./waits.ts";
import { RateMeter } from "./rate-meter.ts";

/** Batches that end other than acked (and protocol errors) logged one by one; then counted. */
const MAX_OUTCOME_LOGS = 20;

export interface WorkloadSeam {
  clock: Clock;
  rng: Rng;
  net: Net;
  log?: Log;
  /**
   * Sends a batch another way than POST /ingest (a target's ingress: syslog, Redis Streams...);
   * it settles the batch itself and never throws for a transport failure.
   */
  send?: (batch: Batch) => Promise<BatchResult>;
}

export type WorkloadState = "idle" | "running" | "stopping" | "stopped";

export interface BatchCounts {
  sent: number;
  acked: number;
  rejected: number;
  unknown: number;
  inFlight: number;
}

export interface WorkloadStats extends OutcomeCounts {
  state: WorkloadState;
  elapsedMs: number;
  batches: BatchCounts;
  /** Requests made, first attempts included. */
  attempts: number;
  retries: number;
  /** 2xx answers whose `accepted` was not the batch's size. */
  protocolErrors: number;
  /** The rate the workload aims at now: eventsPerSecond × surge × flooded tenant shares. */
  targetEventsPerSecond: number;
  /** Produced and acknowledged per second over the last second or so. */
  eventsPerSecond: number;
  ackedPerSecond: number;
  surge: number;
  floods: Record<string, number>;
}

interface InFlightBatch {
  batch: Batch;
  settled: boolean;
}

const noLog: Log = { info() {}, warn() {}, error() {} };

export class Workload {
  readonly options: WorkloadOptions;
  /** Tenants by rank, t000 the heaviest. */
  readonly tenants: readonly string[];
  /** Tenants the harness should create jobs for (one per dataset each). */
  readonly jobTenants: readonly string[];
  readonly record: WorkloadRecord;

  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Log;
  private readonly sampler: TenantSampler;
  private readonly builder: BatchBuilder;
  private readonly sendContext: SendContext;
  private readonly send: ((batch: Batch) => Promise<BatchResult>) | undefined;
  private readonly rates = new RateMeter();

  private currentState: WorkloadState = "idle";
  private startedAt = 0;
  private surge = 1;
  private tokens = 0;
  private lastAccrualAt = 0;
  private producedTotal = 0;
  private ackedTotal = 0;
  private readonly batchCounts: BatchCounts = {
    sent: 0,
    acked: 0,
    rejected: 0,
    unknown: 0,
    inFlight: 0,
  };
  private retries = 0;
  private protocolErrors = 0;
  private outcomeLogs = 0;

  private readonly inFlight = new Set<InFlightBatch>();
  /** Waits between a batch's attempts; abandoning the batches in flight ends them all. */
  private readonly retryWaits: Waits;
  /** Set while production waits for a free slot: a settling batch wakes it. */
  private blocked = false;
  private wake: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private stopping: Promise<WorkloadStats> | undefined;
  private failure: unknown;

  constructor(seam: WorkloadSeam, forwarderUrl: string, options: WorkloadOptionsInput = {}) {
    this.options = resolveWorkloadOptions(options);
    this.clock = seam.clock;
    this.rng = seam.rng;
    this.send = seam.send;
    this.retryWaits = new Waits(seam.clock);
    this.log = seam.log ?? noLog;
    this.sampler = new TenantSampler(this.options.tenants, this.options.zipfExponent);
    this.tenants = this.sampler.names;
    this.jobTenants = selectJobTenants(this.options);
    this.record = new WorkloadRecord(
      this.jobTenants,
      new Timeline(0, this.options.timelineBucketMs),
    );
    this.builder = new BatchBuilder(this.options, this.sampler, this.record, this.rng);
    const limits: Limits = {
      ...DEFAULT_LIMITS,
      retryBaseMs: this.options.retryBaseMs,
      retryMaxMs: this.options.retryMaxMs,
    };
    this.sendContext = {
      net: seam.net,
      rng: this.rng,
      ingestUrl: `${forwarderUrl.replace(/\/+$/, "")}/ingest`,
      options: this.options,
      limits,
      delay: (ms) => this.retryDelay(ms),
      onRetry: () => {
        this.retries++;
        this.record.timeline.count("retries", this.clock.now(), 1);
      },
    };
  }

  get state(): WorkloadState {
    return this.currentState;
  }

  /** The jobs that make the job tenants' traffic expected: every dataset of each. */
  plannedJobs(): PlannedJob[] {
    return plannedJobs(this.options);
  }

  start(): void {
    if (this.currentState !== "idle") {
      throw new Error(`the workload can start once; it is ${this.currentState}`);
    }
    this.currentState = "running";
    this.startedAt = this.clock.now();
    this.lastAccrualAt = this.startedAt;
    this.record.startedAt = this.startedAt;
    this.record.timeline.reset(this.startedAt);
    this.loop = this.produce().catch((error: unknown) => this.fail(error));
    this.log.info("workload started", {
      targetEventsPerSecond: this.targetEventsPerSecond(),
      tenants: this.tenants.length,
      jobTenants: this.jobTenants.length,
    });
  }

  /**
   * Stops producing, waits up to `timeoutMs` for the batches in flight, then records those
   * still unsettled as unknown (they may yet reach the forwarder). Idempotent.
   */
  stop(timeoutMs = this.options.stopTimeoutMs): Promise<WorkloadStats> {
    this.stopping ??= this.shutDown(timeoutMs);
    return this.stopping;
  }

  /** Multiplies all traffic by `multiplier` (the surge fault); 1 restores it. */
  setSurge(multiplier: number): void {
    checkMultiplier(multiplier, "surge");
    this.accrue();
    this.surge = multiplier;
  }

  clearSurge(): void {
    this.setSurge(1);
  }

  /** Multiplies one tenant's traffic by `multiplier` (the tenant flood fault); 1 restores it. */
  setTenantFlood(tenant: string, multiplier: number): void {
    this.accrue();
    this.sampler.setFlood(tenant, multiplier);
  }

  clearTenantFlood(tenant: string): void {
    this.setTenantFlood(tenant, 1);
  }

  clearFloods(): void {
    this.accrue();
    this.sampler.clearFloods();
  }

  targetEventsPerSecond(): number {
    return this.options.eventsPerSecond * this.surge * this.sampler.loadFactor;
  }

  stats(): WorkloadStats {
    const now = this.clock.now();
    const totals = this.record.totals();
    return {
      state: this.currentState,
      elapsedMs: this.currentState === "idle" ? 0 : (this.record.stoppedAt ?? now) - this.startedAt,
      ...totals,
      batches: { ...this.batchCounts },
      attempts: this.batchCounts.sent + this.retries,
      retries: this.retries,
      protocolErrors: this.protocolErrors,
      targetEventsPerSecond: this.targetEventsPerSecond(),
      eventsPerSecond: this.rates.perSecond("produced", now, this.producedTotal),
      ackedPerSecond: this.rates.perSecond("acked", now, this.ackedTotal),
      surge: this.surge,
      floods: this.sampler.floodsByTenant(),
    };
  }

  /** Ticks on a fixed grid from the start, so that waking early for a free slot adds no drift. */
  private async produce(): Promise<void> {
    const interval = this.options.flushIntervalMs;
    let nextTickAt = this.startedAt;
    while (this.currentState === "running" && this.producedTotal < this.options.maxEvents) {
      this.accrue();
      this.dispatchDue();
      const now = this.clock.now();
      this.rates.sample(now, this.producedTotal, this.ackedTotal);
      if (nextTickAt <= now)
        nextTickAt += (Math.floor((now - nextTickAt) / interval) + 1) * interval;
      await this.pause(nextTickAt - now);
    }
  }

  /**
   * Adds the tokens earned since the last accrual at the current rate, up to one flush
   * interval's worth plus the burst allowance.
   */
  private accrue(): void {
    const now = this.clock.now();
    const rate = this.targetEventsPerSecond();
    const { maxBurstMs, flushIntervalMs } = this.options;
    const cap = Math.max(1, (rate * (maxBurstMs + flushIntervalMs)) / 1000);
    this.tokens =
      rate === 0 ? 0 : Math.min(cap, this.tokens + (rate * (now - this.lastAccrualAt)) / 1000);
    this.lastAccrualAt = now;
  }

  private dispatchDue(): void {
    const { batchSize, concurrency, maxEvents } = this.options;
    const now = this.clock.now();
    while (this.tokens >= 1 && this.inFlight.size < concurrency && this.producedTotal < maxEvents) {
      const eventCount = Math.min(
        batchSize,
        Math.floor(this.tokens),
        maxEvents - this.producedTotal,
      );
      this.tokens -= eventCount;
      this.producedTotal += eventCount;
      this.record.timeline.count("produced", now, eventCount);
      this.launch(this.builder.build(eventCount, now));
    }
    this.blocked = this.tokens >= 1 && this.inFlight.size >= concurrency;
  }

  private launch(batch: Batch): void {
    const entry: InFlightBatch = { batch, settled: false };
    this.inFlight.add(entry);
    this.batchCounts.sent++;
    this.batchCounts.inFlight++;
    void (
      this.send === undefined
        ? sendBatch(this.sendContext, batch.body, batch.eventCount)
        : this.send(batch)
    )
      .catch((error: unknown): BatchResult => ({
        outcome: "unknown",
        attempts: 1,
        lastStatus: undefined,
        lastFailure: undefined,
        detail: `sending failed unexpectedly: ${String(error)}`,
        protocolError: undefined,
      }))
      .then((result) => {
        if (!entry.settled) this.settle(entry, result);
      })
      .catch((error: unknown) => this.fail(error));
  }

  /** A broken invariant of the workload itself: kept, logged, and thrown by stop(). */
  private fail(error: unknown): void {
    this.failure ??= error;
    this.log.error("workload failed", { error: String(error) });
  }

  private settle(entry: InFlightBatch, result: BatchResult): void {
    entry.settled = true;
    this.inFlight.delete(entry);
    const { batch } = entry;
    const now = this.clock.now();
    for (const slice of batch.slices)
      slice.stream.settle(result.outcome, slice.seqFrom, slice.seqTo, now);
    this.batchCounts.inFlight--;
    this.batchCounts[result.outcome]++;
    if (result.outcome === "acked") this.ackedTotal += batch.eventCount;
    this.record.timeline.count(result.outcome, this.clock.now(), batch.eventCount);
    if (result.protocolError !== undefined) this.protocolErrors++;
    if (result.outcome !== "acked" || result.protocolError !== undefined)
      this.logOutcome(batch, result);
    if (this.blocked) this.wake?.();
    if (this.inFlight.size === 0) this.drained?.();
  }

  private logOutcome(batch: Batch, result: BatchResult): void {
    this.outcomeLogs++;
    if (this.outcomeLogs > MAX_OUTCOME_LOGS) return;
    const fields = {
      producer: batch.producer,
      events: batch.eventCount,
      attempts: result.attempts,
      detail: result.protocolError ?? result.detail,
    };
    const message =
      result.protocolError === undefined ? `batch ${result.outcome}` : "ingest protocol broken";
    this.log.warn(message, fields);
    if (this.outcomeLogs === MAX_OUTCOME_LOGS) {
      this.log.warn(`further batch outcomes are counted in stats but not logged`);
    }
  }

  /** Waits until the next tick, or earlier when a slot frees while blocked, or on stop. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.wake = undefined;
        resolve();
      };
      const timer = this.clock.schedule(ms, done);
      this.wake = () => {
        timer.cancel();
        done();
      };
    });
  }

  private retryDelay(ms: number): Promise<boolean> {
    return this.retryWaits.wait(ms);
  }

  private async shutDown(timeoutMs: number): Promise<WorkloadStats> {
    if (this.currentState === "running") {
      this.currentState = "stopping";
      this.wake?.();
      await this.loop;
      await this.drain(timeoutMs);
      this.abandonInFlight();
    }
    this.currentState = "stopped";
    this.record.stoppedAt = this.clock.now();
    if (this.failure !== undefined) throw this.failure;
    const stats = this.stats();
    const { produced, acked, rejected, unknown, retries } = stats;
    this.log.info("workload stopped", { produced, acked, rejected, unknown, retries });
    return stats;
  }

  private drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        timer.cancel();
        this.drained = undefined;
        resolve();
      };
      const timer = this.clock.schedule(timeoutMs, done);
      this.drained = done;
    });
  }

  /** Batches still in flight after the drain bound may or may not be accepted: unknown. */
  private abandonInFlight(): void {
    this.retryWaits.close();
    for (const entry of [...this.inFlight]) {
      this.settle(entry, {
        outcome: "unknown",
        attempts: 0,
        lastStatus: undefined,
        lastFailure: undefined,
        detail: "still in flight when the workload stopped",
        protocolError: undefined,
      });
    }
  }
}
