// The pusher (Cloudflare's Logpush): for every enabled job, leases batches from the job's
// buffer, pushes each to the job's destination and acks the buffer.
//
// Hardened: ack only after the destination answered 2xx; on failure release the lease and
// retry with jittered backoff; a destination that refuses a batch outright (4xx other than
// 408/429) gets it declared dropped, with its stream ranges, so the customer can see it.
// Flaw `pusher.ackBeforeDelivery`: ack right after the lease, then push a few times and give up
// silently.
// Flaw `pusher.keepsStaleDestination` (not from the incident): the destination of a worker
// whose job ended (disabled, removed, or given another destination) is kept, and the next job
// that starts pushes there instead of to its own.

import { Counter } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { peerUrl } from "../core/component.ts";
import { DropLog } from "../core/drops.ts";
import { parseEventLines } from "../core/event.ts";
import { Router } from "../core/http.ts";
import { backoffMs } from "../core/limits.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import { NetError, type HttpResponse } from "../core/seam.ts";
import { ConfigWatcher } from "../config/config-watcher.ts";
import type { Job } from "../config/forwarding-config.ts";

type PushOutcome = "delivered" | "refused" | "retry";

/** Pushes one job's batches to `url` (null: the job names an unknown sink) until stopped. */
interface Worker {
  job: Job;
  url: string | null;
  stop: boolean;
}

export function createPusher(options: ComponentOptions): Component {
  const { seam, flaws, limits, instance, peers } = options;
  const bufferUrl = peerUrl(peers, "buffer", "pusher");
  const ackFirst = flaws.has("pusher.ackBeforeDelivery");
  const keepsStaleDestination = flaws.has("pusher.keepsStaleDestination");
  const metrics = newRegistry("pusher", instance);
  const pushed = new Counter({
    name: "pusher_events_total",
    help: "Events handled, by outcome",
    labelNames: ["outcome"],
    registers: [metrics],
  });
  const attempts = new Counter({
    name: "pusher_push_attempts_total",
    help: "Push attempts, by result",
    labelNames: ["result"],
    registers: [metrics],
  });
  const drops = new DropLog(instance, limits.maxDropRecords);
  const watcher = new ConfigWatcher(seam, peerUrl(peers, "config", "pusher"), limits, "pusher");
  const workers = new Map<string, Worker>();
  /** Destinations of workers whose job ended, reused by the next jobs (the flaw only). */
  const staleUrls: string[] = [];
  let running = false;
  let syncTimer: { cancel(): void } | null = null;

  function destinationUrl(job: Job): string | null {
    const slash = job.destination.indexOf("/");
    const sink = peers[job.destination.slice(0, slash)];
    return sink === undefined
      ? null
      : `${sink.replace(/\/+$/, "")}/ingest/${job.destination.slice(slash + 1)}`;
  }

  async function bufferCall(
    path: string,
    body: unknown,
    timeoutMs: number,
  ): Promise<HttpResponse | null> {
    try {
      return await seam.net.request({
        method: "POST",
        url: `${bufferUrl}${path}`,
        body: JSON.stringify(body),
        timeoutMs,
      });
    } catch (error) {
      if (error instanceof NetError) return null;
      throw error;
    }
  }

  async function pushOnce(
    url: string,
    body: string,
  ): Promise<{ outcome: PushOutcome; detail: string }> {
    try {
      const response = await seam.net.request({
        method: "POST",
        url,
        body,
        timeoutMs: limits.pushTimeoutMs,
      });
      attempts.inc({ result: String(response.status) });
      if (response.status >= 200 && response.status < 300)
        return { outcome: "delivered", detail: "" };
      const permanent =
        response.status >= 400 &&
        response.status < 500 &&
        response.status !== 408 &&
        response.status !== 429;
      return {
        outcome: permanent ? "refused" : "retry",
        detail: `${response.status} ${response.body.trim().slice(0, 200)}`,
      };
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      attempts.inc({ result: error.failure });
      return { outcome: "retry", detail: error.message };
    }
  }

  /** One lease → push → ack cycle; returns false when there was nothing to push. */
  async function cycle(job: Job, url: string): Promise<boolean> {
    const askedAt = seam.clock.now();
    const leased = await bufferCall(
      "/lease",
      {
        tenant: job.tenant,
        dataset: job.dataset,
        maxBytes: limits.leaseMaxBytes,
        waitMs: limits.leaseWaitMs,
      },
      limits.leaseWaitMs + limits.bufferTimeoutMs,
    );
    if (leased === null || leased.status !== 200) {
      // Nothing to push. Only an empty lease that waited its full time needs no pause: any
      // other answer (a failure, 404 from a buffer that does not know the job yet, an early
      // 204) would otherwise turn this loop into a busy loop against the buffer.
      const waited = seam.clock.now() - askedAt >= limits.leaseWaitMs;
      if (leased === null || leased.status !== 204 || !waited)
        await seam.clock.sleep(backoffMs(limits, 2, seam.rng.next()));
      return false;
    }
    const leaseId = Number(leased.headers?.["x-lease-id"]);
    const count = Number(leased.headers?.["x-lease-count"] ?? 0);
    if (ackFirst) {
      await bufferCall("/ack", { leaseId }, limits.bufferTimeoutMs);
      for (let attempt = 0; attempt < limits.legacyPushAttempts; attempt++) {
        const { outcome, detail } = await pushOnce(url, leased.body);
        if (outcome === "delivered") {
          pushed.inc({ outcome: "delivered" }, count);
          return true;
        }
        seam.log.warn("push failed", { job: job.id, attempt, detail });
        if (attempt + 1 < limits.legacyPushAttempts)
          await seam.clock.sleep(backoffMs(limits, attempt, seam.rng.next()));
      }
      seam.log.error("giving up on a batch", { job: job.id, events: count });
      pushed.inc({ outcome: "abandoned" }, count);
      return true;
    }
    const deadline = Number(leased.headers?.["x-lease-until"] ?? 0) - limits.pushTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      const { outcome, detail } = await pushOnce(url, leased.body);
      if (outcome === "delivered") {
        pushed.inc({ outcome: "delivered" }, count);
        await bufferCall("/ack", { leaseId }, limits.bufferTimeoutMs);
        return true;
      }
      if (outcome === "refused") {
        const ids = parseEventLines(leased.body, Number.MAX_SAFE_INTEGER).map(({ event }) => event);
        drops.declare(
          seam.clock.now(),
          `destination ${job.destination} refused the batch: ${detail}`,
          ids,
        );
        pushed.inc({ outcome: "declared" }, count);
        await bufferCall("/ack", { leaseId }, limits.bufferTimeoutMs);
        return true;
      }
      seam.log.warn("push failed; will retry", { job: job.id, attempt, detail });
      const pause = backoffMs(limits, attempt, seam.rng.next());
      const worker = workers.get(job.id);
      if (!running || worker?.stop === true || seam.clock.now() + pause > deadline) {
        // Hand the batch back rather than let the lease lapse mid-retry.
        await bufferCall("/release", { leaseId }, limits.bufferTimeoutMs);
        await seam.clock.sleep(pause);
        return true;
      }
      await seam.clock.sleep(pause);
    }
  }

  async function work(worker: Worker): Promise<void> {
    const { job, url } = worker;
    if (url === null) {
      seam.log.error("job destination names an unknown sink; not pushing", {
        job: job.id,
        destination: job.destination,
      });
      return;
    }
    while (running && !worker.stop) {
      try {
        await cycle(job, url);
      } catch (error) {
        seam.log.error("push cycle failed", { job: job.id, error: String(error) });
        await seam.clock.sleep(limits.retryMaxMs);
      }
    }
  }

  function syncWorkers(): void {
    const config = watcher.config();
    const wanted = new Map(
      (config?.jobs ?? []).filter((job) => job.enabled).map((job) => [job.id, job]),
    );
    for (const [id, worker] of workers) {
      const job = wanted.get(id);
      if (job === undefined || job.destination !== worker.job.destination) {
        worker.stop = true;
        workers.delete(id);
        if (keepsStaleDestination && worker.url !== null && staleUrls.length < limits.maxBuffers)
          staleUrls.push(worker.url);
      }
    }
    for (const [id, job] of wanted) {
      if (workers.has(id)) continue;
      const url = (keepsStaleDestination ? staleUrls.shift() : undefined) ?? destinationUrl(job);
      const worker: Worker = { job, url, stop: false };
      workers.set(id, worker);
      void work(worker);
    }
  }

  function scheduleSync(): void {
    syncTimer = seam.clock.schedule(limits.configPollMs, () => {
      if (!running) return;
      syncWorkers();
      scheduleSync();
    });
  }

  const router = new Router();
  addObservability(router, {
    metrics,
    drops,
    health: () => ({ ok: running && watcher.config() !== null, jobs: workers.size }),
  });

  return {
    name: "pusher",
    handle: router.handle,
    metrics,
    async start() {
      running = true;
      await watcher.start();
      syncWorkers();
      scheduleSync();
    },
    async stop() {
      running = false;
      syncTimer?.cancel();
      watcher.stop();
      for (const worker of workers.values()) worker.stop = true;
    },
  };
}
