// What the harness sees of a running target from outside (docs/targets.md, "Evidence"): every
// service's health by its own probe and the memory of each process group, read from the OS, at a
// fixed interval. Nothing here asks the target how it is doing: third-party software has no
// /stats, and a verdict must not rest on its word anyway.

import type { ServiceHandle } from "../runtime/runtime.ts";
import type { StartedTarget } from "./topology.ts";

const POLL_MS = 250;
/** Readings kept: at 4 a second, an hour; older ones are thinned, never unbounded. */
export const READINGS_MAX = 14_400;
const MIB = 1024 * 1024;

export interface HealthReading {
  at: number;
  unhealthy: string[];
}

export interface MemoryPeak {
  service: string;
  /** Highest RSS of its process group over the run, in MB, and when. */
  peakMb: number;
  at: number;
  readings: number;
}

export class TargetObserver {
  readonly healthSamples: HealthReading[] = [];
  private readonly peaks = new Map<string, MemoryPeak>();
  private readonly target: StartedTarget;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(target: StartedTarget) {
    this.target = target;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.polling = this.poll().finally(() => (this.busy = false));
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling.catch(() => undefined);
  }

  /** The services that do not answer their probe now. */
  async health(): Promise<{ unhealthy: string[] }> {
    const answers = await Promise.all(
      this.target.services.map(async (service) => ({
        name: service.name,
        healthy: await this.target.healthy(service),
      })),
    );
    return { unhealthy: answers.filter((answer) => !answer.healthy).map((answer) => answer.name) };
  }

  memoryPeaks(): MemoryPeak[] {
    return [...this.peaks.values()];
  }

  private async poll(): Promise<void> {
    const at = this.target.clock.now();
    const { unhealthy } = await this.health();
    this.healthSamples.push({ at, unhealthy });
    if (this.healthSamples.length > READINGS_MAX) this.thin();
    await Promise.all(this.target.targetServices.map((service) => this.readMemory(service, at)));
  }

  private async readMemory(service: ServiceHandle, at: number): Promise<void> {
    const bytes = await service.memoryBytes().catch(() => undefined);
    if (bytes === undefined) return;
    const megabytes = bytes / MIB;
    const peak = this.peaks.get(service.name);
    if (peak === undefined)
      this.peaks.set(service.name, { service: service.name, peakMb: megabytes, at, readings: 1 });
    else {
      peak.readings++;
      if (megabytes > peak.peakMb) Object.assign(peak, { peakMb: megabytes, at });
    }
  }

  /** Keeps every other reading, and every unhealthy one (the evidence recovery needs). */
  private thin(): void {
    const kept = this.healthSamples.filter(
      (reading, index) => index % 2 === 0 || reading.unhealthy.length > 0,
    );
    this.healthSamples.splice(0, this.healthSamples.length, ...kept);
  }
}
