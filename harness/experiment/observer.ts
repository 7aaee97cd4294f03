// Watches a running topology for the whole experiment, so that evidence survives restarts:
// the buffer's /stats (high-water marks reset when it restarts), its RSS, the forwarder's
// config decisions, every component's declared drops, and the runtime's events. Every memory
// reading and memory event names the service it was measured on.

import type { DropRecord } from "../../pipeline/core/drops.ts";
import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import type { BufferSample, MemoryEvent } from "../invariants/types.ts";
import type { Timer } from "../../pipeline/core/seam.ts";
import { answersOk, probeJson } from "../http/json-client.ts";
import { readPublishedConfig } from "../ledger/collect.ts";
import type { SeenConfig } from "../ledger/job-record.ts";
import { firstOf } from "../faults/targets.ts";
import { every } from "../runtime/every.ts";
import { servicesRunning, type RunningTopology, type RuntimeEvent } from "../runtime/runtime.ts";

const STATS_EVERY_MS = 250;
const HEALTH_EVERY_MS = 1_000;
const MAX_CONFIGS = 10_000;
const DROPS_EVERY_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_SAMPLES = 20_000;
const FINAL_ATTEMPTS = 3;
const FINAL_TIMEOUT_MS = 10_000;

/** The buffer's /stats as the observer reads it. */
type BufferStats = Omit<BufferSample, "at" | "highWaterTenant"> & {
  highWaterTenantBytes?: number;
  highWaterTenant?: string | null;
  highWaterTenantBytesAt?: number;
};

/** The per-tenant high-water mark, when /stats reports it. */
function tenantMark(stats: BufferStats): Pick<BufferSample, "highWaterTenant"> {
  const {
    highWaterTenantBytes: bytes,
    highWaterTenant: tenant,
    highWaterTenantBytesAt: at,
  } = stats;
  if (typeof bytes !== "number" || typeof at !== "number") return {};
  return { highWaterTenant: { tenant: tenant ?? null, bytes, at } };
}

export interface HealthReading {
  at: number;
  unhealthy: string[];
}

export class Observer {
  readonly bufferSamples: BufferSample[] = [];
  /** The buffer's memory, with each /stats reading (its bound is judged on these). */
  readonly rssSamples: Array<{ service: string; at: number; rssMb: number }> = [];
  /** Every other service's memory, about once a second, for the reports (bounded apart). */
  readonly otherRssSamples: Array<{ service: string; at: number; rssMb: number }> = [];
  readonly memoryExceeded: MemoryEvent[] = [];
  readonly events: RuntimeEvent[] = [];
  /**
   * Every config the config service published, as the harness read it from GET /config (the
   * forwarder's own account of them is only a cross-check), in the order first seen.
   */
  readonly publishedConfigs: SeenConfig[] = [];
  private readonly publishedKeys = new Set<string>();
  /** Every service's /healthz, read about once a second over the whole run. */
  readonly healthSamples: HealthReading[] = [];
  private readonly decisions = new Map<string, ConfigDecision>();
  private readonly drops = new Map<string, DropRecord>();
  private readonly dropCursors = new Map<string, number>();
  private readonly unreadableDrops = new Set<string>();
  private readonly topology: RunningTopology;
  private readonly maxBufferMemoryMb: number;
  private timers: Timer[] = [];
  private unsubscribe: (() => void) | null = null;
  private sampling: Promise<void> | null = null;

  constructor(topology: RunningTopology, maxBufferMemoryMb: number) {
    this.topology = topology;
    this.maxBufferMemoryMb = maxBufferMemoryMb;
  }

  start(): void {
    this.unsubscribe = this.topology.onEvent((event) => {
      this.events.push(event);
      // A restarted service's drop log begins again at 0.
      if (event.kind === "started") this.dropCursors.set(event.service, 0);
      if (event.kind === "memory-cap-exceeded") {
        const { service, at, rssMb, capMb } = event;
        this.memoryExceeded.push({ service, at, rssMb, capMb });
      }
    });
    const { clock } = this.topology;
    this.timers.push(every(clock, STATS_EVERY_MS, () => void this.sampleStats()));
    this.timers.push(every(clock, DROPS_EVERY_MS, () => void this.sampleDrops()));
    this.timers.push(
      every(clock, HEALTH_EVERY_MS, () => {
        void this.health().then((reading) => {
          if (this.healthSamples.length < MAX_SAMPLES) this.healthSamples.push(reading);
        });
        void this.sampleMemory();
      }),
    );
  }

  /**
   * Every service's memory but the buffer's (read with each /stats, more often), about once a
   * second, for the reports' memory chart: from the OS on processes, from the model on the
   * simulator.
   */
  private async sampleMemory(): Promise<void> {
    const at = this.topology.clock.now();
    for (const service of this.topology.services) {
      if (service.component === "buffer" || this.otherRssSamples.length >= MAX_SAMPLES) continue;
      const rss = await service.memoryBytes().catch(() => undefined);
      if (rss !== undefined)
        this.otherRssSamples.push({ service: service.name, at, rssMb: rss / (1024 * 1024) });
    }
  }

  /** Takes a last reading of everything, then stops sampling. */
  async stop(): Promise<void> {
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
    this.unsubscribe?.();
    await this.sampling;
    await this.sampleStats();
    // The last reading decides what counts as declared: give a busy service more time and tries.
    for (let attempt = 0; attempt < FINAL_ATTEMPTS; attempt++) {
      await this.sampleDrops(FINAL_TIMEOUT_MS);
      if (this.unreadableDrops.size === 0) break;
    }
  }

  /** Keeps a config the config service published, the first time the harness reads it. */
  private rememberPublished(seen: SeenConfig): void {
    const key = `${seen.version}:${seen.pairs === null ? "not a config" : seen.pairs.join(",")}`;
    if (this.publishedKeys.has(key) || this.publishedConfigs.length >= MAX_CONFIGS) return;
    this.publishedKeys.add(key);
    this.publishedConfigs.push(seen);
  }

  latestBuffer(): BufferSample | undefined {
    return this.bufferSamples[this.bufferSamples.length - 1];
  }

  configDecisions(): ConfigDecision[] {
    return [...this.decisions.values()].sort((a, b) => a.at - b.at);
  }

  declaredDrops(): DropRecord[] {
    return [...this.drops.values()];
  }

  /** Services whose drops could not be read at the last attempt. */
  unreadable(): string[] {
    return [...this.unreadableDrops];
  }

  async health(): Promise<HealthReading> {
    const answers = await Promise.all(
      this.topology.services.map(async (service) =>
        (await answersOk(this.topology.net, `${service.url()}/healthz`, REQUEST_TIMEOUT_MS))
          ? null
          : service.name,
      ),
    );
    return {
      at: this.topology.clock.now(),
      unhealthy: answers.filter((name): name is string => name !== null),
    };
  }

  private async sampleStats(): Promise<void> {
    const run = async (): Promise<void> => {
      const { net } = this.topology;
      // By role, not name: a target's services play them under names of its own.
      const buffer = firstOf(this.topology, "buffer");
      const forwarder = firstOf(this.topology, "forwarder");
      const [config] = servicesRunning(this.topology.services, "config");
      const [stats, log, published] = await Promise.all([
        probeJson<BufferStats>(net, `${buffer.url()}/stats`, REQUEST_TIMEOUT_MS),
        probeJson<{ decisions: ConfigDecision[] }>(
          net,
          `${forwarder.url()}/config-log`,
          REQUEST_TIMEOUT_MS,
        ),
        config === undefined
          ? null
          : readPublishedConfig(
              net,
              { url: config.url() },
              () => this.topology.clock.now(),
              REQUEST_TIMEOUT_MS,
            ),
      ]);
      const at = this.topology.clock.now();
      if (published !== null) this.rememberPublished(published);
      if (stats !== null && this.bufferSamples.length < MAX_SAMPLES) {
        const {
          bytes,
          buffers,
          leases,
          highWaterBytes,
          highWaterBytesAt,
          highWaterBuffers,
          highWaterBuffersAt,
        } = stats;
        this.bufferSamples.push({
          at,
          bytes,
          buffers,
          leases,
          highWaterBytes,
          highWaterBytesAt,
          highWaterBuffers,
          highWaterBuffersAt,
          ...tenantMark(stats),
        });
      }
      for (const decision of log?.decisions ?? []) {
        this.decisions.set(
          `${decision.at}:${decision.version}:${decision.applied}:${decision.reason}`,
          decision,
        );
      }
      const rss = await buffer.memoryBytes();
      if (rss !== undefined && this.rssSamples.length < MAX_SAMPLES) {
        const rssMb = rss / (1024 * 1024);
        this.rssSamples.push({ service: buffer.name, at, rssMb });
        const alreadyPast = this.memoryExceeded.some(
          (entry) => entry.service === buffer.name && entry.capMb === this.maxBufferMemoryMb,
        );
        if (rssMb > this.maxBufferMemoryMb && !alreadyPast) {
          this.memoryExceeded.push({
            service: buffer.name,
            at,
            rssMb,
            capMb: this.maxBufferMemoryMb,
          });
        }
      }
    };
    this.sampling = run();
    await this.sampling;
  }

  private async sampleDrops(timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    for (const service of this.topology.services) {
      const cursor = this.dropCursors.get(service.name) ?? 0;
      const answer = await probeJson<{ records: DropRecord[]; next: number }>(
        this.topology.net,
        `${service.url()}/drops?cursor=${cursor}`,
        timeoutMs,
      );
      if (answer === null) {
        this.unreadableDrops.add(service.name);
        continue;
      }
      this.unreadableDrops.delete(service.name);
      for (const record of answer.records)
        this.drops.set(`${service.name}:${record.at}:${record.id}`, record);
      this.dropCursors.set(service.name, Math.max(answer.next, cursor));
    }
  }
}
