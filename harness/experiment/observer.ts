// Watches a running topology for the whole experiment, so that evidence survives restarts:
// the buffer's /stats (high-water marks reset when it restarts), its RSS, the forwarder's
// config decisions, every component's declared drops, and the runtime's events.

import type { DropRecord } from "../../pipeline/core/drops.ts";
import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import type { BufferSample } from "../invariants/types.ts";
import type { RunningTopology, RuntimeEvent } from "../runtime/runtime.ts";
import { readRssBytes } from "../runtime/process/proc.ts";

const STATS_EVERY_MS = 250;
const DROPS_EVERY_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_SAMPLES = 20_000;
const FINAL_ATTEMPTS = 3;
const FINAL_TIMEOUT_MS = 10_000;

async function getJson<T>(url: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? ((await response.json()) as T) : null;
  } catch {
    return null;
  }
}

export interface HealthReading {
  at: number;
  unhealthy: string[];
}

export class Observer {
  readonly bufferSamples: BufferSample[] = [];
  readonly rssSamples: Array<{ at: number; rssMb: number }> = [];
  readonly memoryExceeded: Array<{ at: number; rssMb: number; capMb: number }> = [];
  readonly events: RuntimeEvent[] = [];
  private readonly decisions = new Map<string, ConfigDecision>();
  private readonly drops = new Map<string, DropRecord>();
  private readonly dropCursors = new Map<string, number>();
  private readonly unreadableDrops = new Set<string>();
  private readonly topology: RunningTopology;
  private readonly maxBufferMemoryMb: number;
  private timers: NodeJS.Timeout[] = [];
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
      if (event.kind === "memory-cap-exceeded")
        this.memoryExceeded.push({ at: event.at, rssMb: event.rssMb, capMb: event.capMb });
    });
    this.timers.push(setInterval(() => void this.sampleStats(), STATS_EVERY_MS));
    this.timers.push(setInterval(() => void this.sampleDrops(), DROPS_EVERY_MS));
  }

  /** Takes a last reading of everything, then stops sampling. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
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
      this.topology.services.map(async (service) => {
        try {
          const response = await fetch(`${service.url()}/healthz`, {
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          return response.ok ? null : service.name;
        } catch {
          return service.name;
        }
      }),
    );
    return { at: Date.now(), unhealthy: answers.filter((name): name is string => name !== null) };
  }

  private async sampleStats(): Promise<void> {
    const run = async (): Promise<void> => {
      const buffer = this.topology.service("buffer");
      const forwarder = this.topology.service("forwarder");
      const [stats, log] = await Promise.all([
        getJson<Omit<BufferSample, "at">>(`${buffer.url()}/stats`),
        getJson<{ decisions: ConfigDecision[] }>(`${forwarder.url()}/config-log`),
      ]);
      const at = Date.now();
      if (stats !== null && this.bufferSamples.length < MAX_SAMPLES) {
        const {
          bytes,
          buffers,
          highWaterBytes,
          highWaterBytesAt,
          highWaterBuffers,
          highWaterBuffersAt,
        } = stats;
        this.bufferSamples.push({
          at,
          bytes,
          buffers,
          highWaterBytes,
          highWaterBytesAt,
          highWaterBuffers,
          highWaterBuffersAt,
        });
      }
      for (const decision of log?.decisions ?? []) {
        this.decisions.set(
          `${decision.at}:${decision.version}:${decision.applied}:${decision.reason}`,
          decision,
        );
      }
      const pid = buffer.pid();
      const rss = pid === undefined ? undefined : await readRssBytes(pid);
      if (rss !== undefined && this.rssSamples.length < MAX_SAMPLES) {
        const rssMb = rss / (1024 * 1024);
        this.rssSamples.push({ at, rssMb });
        if (
          rssMb > this.maxBufferMemoryMb &&
          this.memoryExceeded.every((entry) => entry.capMb !== this.maxBufferMemoryMb)
        ) {
          this.memoryExceeded.push({ at, rssMb, capMb: this.maxBufferMemoryMb });
        }
      }
    };
    this.sampling = run();
    await this.sampling;
  }

  private async sampleDrops(timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    for (const service of this.topology.services) {
      const cursor = this.dropCursors.get(service.name) ?? 0;
      const answer = await getJson<{ records: DropRecord[]; next: number }>(
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
