// What the harness sees of a running target from outside (docs/targets.md, "Evidence"): every
// service's health by its own probe and the memory of each process group, read from the OS, at a
// fixed interval. Nothing here asks the target how it is doing: third-party software has no
// /stats, and a verdict must not rest on its word anyway.

import { SERIES_BUCKET_MS_MIN } from "../experiment/series.ts";
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

/** The highest memory reading of one service in each stretch of `widthMs` (the series' memory). */
interface MemoryOverTime {
  widthMs: number;
  readings: Array<{ at: number; mb: number }>;
}

export class TargetObserver {
  readonly healthSamples: HealthReading[] = [];
  private readonly peaks = new Map<string, MemoryPeak>();
  private readonly overTime = new Map<string, MemoryOverTime>();
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

  /** Each service's highest memory reading per second (wider past READINGS_MAX), in MB. */
  memoryOverTime(): Array<{ service: string; readings: Array<{ at: number; mb: number }> }> {
    return [...this.overTime.entries()].map(([service, { readings }]) => ({
      service,
      readings: [...readings],
    }));
  }

  private keepOverTime(service: string, at: number, megabytes: number): void {
    let track = this.overTime.get(service);
    if (track === undefined)
      // Readings kept per stretch of a series' narrowest bucket.
      this.overTime.set(service, (track = { widthMs: SERIES_BUCKET_MS_MIN, readings: [] }));
    const stretch = (reading: { at: number }): number => Math.floor(reading.at / track.widthMs);
    const last = track.readings[track.readings.length - 1];
    if (last !== undefined && stretch(last) === stretch({ at })) {
      if (megabytes > last.mb) Object.assign(last, { at, mb: megabytes });
      return;
    }
    track.readings.push({ at, mb: megabytes });
    if (track.readings.length <= READINGS_MAX) return;
    track.widthMs *= 2;
    const merged: MemoryOverTime["readings"] = [];
    for (const reading of track.readings) {
      const previous = merged[merged.length - 1];
      if (previous === undefined || stretch(previous) !== stretch(reading)) merged.push(reading);
      else if (reading.mb > previous.mb) Object.assign(previous, reading);
    }
    track.readings = merged;
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
    this.keepOverTime(service.name, at, megabytes);
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
