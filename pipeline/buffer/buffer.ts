// The buffer (Cloudflare's Buftee): one FIFO per (tenant, dataset) job, appended by the
// forwarder, leased by the pusher, deleted on ack.
//
// Hardened: admission control (only configured pairs get a buffer), bounds on total bytes,
// per-tenant bytes and buffer count that push back with 429, a write-ahead log fsynced
// before an append is acknowledged, and events of a job the config no longer has declared
// dropped rather than held for good. Flaws: `buffer.limitsUnconfigured` (buffers for anyone,
// no bounds: memory grows until the process stalls or dies) and `buffer.ackBeforeDurable`
// (acknowledged appends sit in memory until the next periodic flush).
// A disk error stops appends (503) and makes it unhealthy until restarted; what it holds can
// still be leased and acked (pipeline/core/disk-failure.ts).

import { Counter, Gauge } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { peerUrl } from "../core/component.ts";
import { DiskFailure } from "../core/disk-failure.ts";
import { DropLog } from "../core/drops.ts";
import { pairKey, parseEventLines, type EventLine } from "../core/event.ts";
import { BadRequest, json, parseEventBatch, parseJsonBody, problem, Router } from "../core/http.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import type { HttpResponse } from "../core/seam.ts";
import { ConfigWatcher } from "../config/config-watcher.ts";
import { BufferStore, type Chunk } from "./store.ts";
import { appendRecord, recoverWal, WriteAheadLog } from "./wal.ts";

interface PairGroup {
  tenant: string;
  dataset: string;
  lines: EventLine[];
  body: string;
  bytes: number;
}

function groupByPair(lines: EventLine[]): Map<string, PairGroup> {
  const groups = new Map<string, PairGroup>();
  for (const line of lines) {
    const key = pairKey(line.event.tenant, line.event.dataset);
    let group = groups.get(key);
    if (group === undefined) {
      group = {
        tenant: line.event.tenant,
        dataset: line.event.dataset,
        lines: [],
        body: "",
        bytes: 0,
      };
      groups.set(key, group);
    }
    group.lines.push(line);
    group.body += line.line + "\n";
    group.bytes += line.line.length + 1;
  }
  return groups;
}

function leaseRequest(body: unknown): {
  tenant: string;
  dataset: string;
  maxBytes?: number;
  waitMs?: number;
} {
  if (typeof body !== "object" || body === null)
    throw new BadRequest("lease request must be a JSON object");
  const fields = body as Record<string, unknown>;
  for (const field of ["tenant", "dataset"]) {
    if (typeof fields[field] !== "string") {
      throw new BadRequest(
        `field "${field}" is ${JSON.stringify(fields[field])}, expected a string`,
      );
    }
  }
  for (const field of ["maxBytes", "waitMs"]) {
    const value = fields[field];
    if (
      value !== undefined &&
      (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    ) {
      throw new BadRequest(
        `field "${field}" is ${JSON.stringify(value)}, expected a non-negative integer`,
      );
    }
  }
  return fields as { tenant: string; dataset: string; maxBytes?: number; waitMs?: number };
}

function leaseId(body: unknown): number {
  const value = (body as Record<string, unknown> | null)?.leaseId;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new BadRequest(
      `field "leaseId" is ${JSON.stringify(value)}, expected a positive integer`,
    );
  }
  return value;
}

export function createBuffer(options: ComponentOptions): Component {
  const { seam, flaws, limits, instance } = options;
  const unbounded = flaws.has("buffer.limitsUnconfigured");
  const volatile = flaws.has("buffer.ackBeforeDurable");
  const metrics = newRegistry("buffer", instance);
  const appended = new Counter({
    name: "buffer_appended_events_total",
    help: "Events appended",
    registers: [metrics],
  });
  const acked = new Counter({
    name: "buffer_acked_events_total",
    help: "Events acked by the pusher",
    registers: [metrics],
  });
  const refused = new Counter({
    name: "buffer_refused_events_total",
    help: "Events refused at append, by reason",
    labelNames: ["reason"],
    registers: [metrics],
  });
  const orphaned = new Counter({
    name: "buffer_job_removed_events_total",
    help: "Buffered events declared dropped because the config in force no longer has their job",
    registers: [metrics],
  });
  const store = new BufferStore();
  const gauges = {
    bytes: new Gauge({ name: "buffer_bytes", help: "Bytes held", registers: [metrics] }),
    buffers: new Gauge({
      name: "buffer_buffers",
      help: "Buffers (pairs) held",
      registers: [metrics],
    }),
    highWaterBytes: new Gauge({
      name: "buffer_high_water_bytes",
      help: "Most bytes held since start",
      registers: [metrics],
    }),
    highWaterBuffers: new Gauge({
      name: "buffer_high_water_buffers",
      help: "Most buffers since start",
      registers: [metrics],
    }),
  };
  const drops = new DropLog(instance, limits.maxDropRecords);
  const diskFailure = new DiskFailure(seam.log);
  const config = unbounded
    ? null
    : new ConfigWatcher(seam, peerUrl(options.peers, "config", "buffer"), limits, "buffer");
  const waiters = new Map<string, Set<() => void>>();
  let wal: WriteAheadLog | null = null;
  let nextChunkId = 1;
  let running = false;
  let flushTimer: { cancel(): void } | null = null;
  let orphanTimer: { cancel(): void } | null = null;

  function refreshGauges(): void {
    gauges.bytes.set(store.totalBytes);
    gauges.buffers.set(store.bufferCount);
    gauges.highWaterBytes.set(store.highWater.bytes);
    gauges.highWaterBuffers.set(store.highWater.buffers);
  }

  function wake(key: string): void {
    const set = waiters.get(key);
    if (set === undefined) return;
    waiters.delete(key);
    for (const resolve of set) resolve();
  }

  function waitForData(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = waiters.get(key);
      if (set === undefined) {
        set = new Set();
        waiters.set(key, set);
      }
      const done = (): void => {
        timer.cancel();
        set!.delete(done);
        resolve();
      };
      const timer = seam.clock.schedule(ms, done);
      set.add(done);
    });
  }

  /**
   * Admitted appends still waiting for the WAL: counted against the bounds until they are in
   * the store, so that concurrent appends cannot all pass the check and overshoot together.
   */
  const reserved = {
    bytes: 0,
    tenants: new Map<string, number>(),
    buffers: new Map<string, number>(),
  };

  function reserve(groups: PairGroup[], sign: 1 | -1): void {
    for (const group of groups) {
      const key = pairKey(group.tenant, group.dataset);
      reserved.bytes += sign * group.bytes;
      const tenantBytes = (reserved.tenants.get(group.tenant) ?? 0) + sign * group.bytes;
      if (tenantBytes === 0) reserved.tenants.delete(group.tenant);
      else reserved.tenants.set(group.tenant, tenantBytes);
      const appends = (reserved.buffers.get(key) ?? 0) + sign;
      if (appends === 0) reserved.buffers.delete(key);
      else reserved.buffers.set(key, appends);
    }
  }

  /** Hardened bounds: the whole append fits, or nothing is appended. */
  function overBound(groups: PairGroup[]): string | null {
    let bytes = 0;
    const newBuffers = new Set<string>();
    const perTenant = new Map<string, number>();
    for (const group of groups) {
      bytes += group.bytes;
      perTenant.set(group.tenant, (perTenant.get(group.tenant) ?? 0) + group.bytes);
      const key = pairKey(group.tenant, group.dataset);
      if (!store.hasBuffer(key) && !reserved.buffers.has(key)) newBuffers.add(key);
    }
    const held = store.totalBytes + reserved.bytes;
    if (held + bytes > limits.maxBufferBytes)
      return `buffer full (${held} of ${limits.maxBufferBytes} bytes)`;
    const pendingBuffers = [...reserved.buffers.keys()].filter((key) => !store.hasBuffer(key));
    const buffers = store.bufferCount + pendingBuffers.length;
    if (buffers + newBuffers.size > limits.maxBuffers)
      return `too many buffers (${buffers} of ${limits.maxBuffers})`;
    for (const [tenant, add] of perTenant) {
      const tenantHeld = store.bytesOfTenant(tenant) + (reserved.tenants.get(tenant) ?? 0);
      if (tenantHeld + add > limits.maxTenantBytes) {
        return `tenant ${tenant} over its share (${tenantHeld} of ${limits.maxTenantBytes} bytes)`;
      }
    }
    return null;
  }

  async function append(body: string): Promise<HttpResponse> {
    if (!running || wal === null) return problem(503, "buffer is not ready");
    const lines = parseEventBatch(body, limits.maxEventsPerBatch);
    diskFailure.check();
    const groups = [...groupByPair(lines).values()];
    const unconfigured: Array<{ tenant: string; dataset: string; count: number }> = [];
    if (config === null) return commitAppend(wal, groups, unconfigured);
    const pairs = config.pairs();
    if (pairs === null)
      return problem(503, "buffer has no config yet", {
        "retry-after-ms": String(limits.pushbackRetryMs),
      });
    const admitted: PairGroup[] = [];
    const refusedGroups: PairGroup[] = [];
    for (const group of groups) {
      if (pairs.has(pairKey(group.tenant, group.dataset))) admitted.push(group);
      else {
        refusedGroups.push(group);
        unconfigured.push({
          tenant: group.tenant,
          dataset: group.dataset,
          count: group.lines.length,
        });
      }
    }
    // Refused while the config in force may lack a job (see ConfigWatcher.doubt): possibly a
    // job this buffer has not heard of, so the refusal is declared rather than silent.
    const now = seam.clock.now();
    const doubt = refusedGroups.length > 0 ? config.doubt(now) : null;
    if (doubt !== null) {
      drops.declare(
        now,
        `refused as unconfigured while ${doubt}`,
        refusedGroups.flatMap((group) => group.lines.map(({ event }) => event)),
      );
    }
    const bound = overBound(admitted);
    if (bound !== null) {
      refused.inc({ reason: "full" }, lines.length);
      return problem(429, bound, {
        "retry-after-ms": String(limits.pushbackRetryMs),
        "retry-after": String(Math.ceil(limits.pushbackRetryMs / 1000)),
      });
    }
    reserve(admitted, 1);
    try {
      return await commitAppend(wal, admitted, unconfigured);
    } finally {
      reserve(admitted, -1);
    }
  }

  /** Writes the admitted groups to the WAL, then into the store, and answers the append. */
  async function commitAppend(
    wal: WriteAheadLog,
    admitted: PairGroup[],
    unconfigured: Array<{ tenant: string; dataset: string; count: number }>,
  ): Promise<HttpResponse> {
    const now = seam.clock.now();
    const chunks: Chunk[] = admitted.map((group) => ({
      id: nextChunkId++,
      tenant: group.tenant,
      dataset: group.dataset,
      body: group.body,
      count: group.lines.length,
      bytes: group.bytes,
      segment: "",
      leaseId: 0,
      leaseUntil: 0,
    }));
    const recordOf = (chunk: Chunk): string =>
      appendRecord(chunk.id, chunk.tenant, chunk.dataset, chunk.body, chunk.count);
    if (volatile) {
      for (const chunk of chunks) chunk.segment = wal.appendLazily(recordOf(chunk));
    } else {
      await diskFailure.run("append to the write-ahead log", () =>
        Promise.all(
          chunks.map(async (chunk) => (chunk.segment = await wal.appendDurably(recordOf(chunk)))),
        ),
      );
    }
    let events = 0;
    for (const chunk of chunks) {
      store.add(chunk, now);
      events += chunk.count;
      wake(pairKey(chunk.tenant, chunk.dataset));
    }
    appended.inc(events);
    for (const { count } of unconfigured) refused.inc({ reason: "unconfigured" }, count);
    return json(200, { appended: events, unconfigured });
  }

  async function lease(body: unknown): Promise<HttpResponse> {
    const request = leaseRequest(body);
    const key = pairKey(request.tenant, request.dataset);
    const maxBytes = Math.min(request.maxBytes ?? limits.leaseMaxBytes, limits.leaseMaxBytes);
    const waitMs = Math.min(request.waitMs ?? 0, limits.leaseWaitMs);
    const pairs = config?.pairs();
    if (pairs != null && !pairs.has(key) && !store.hasBuffer(key)) {
      return problem(404, `no job for tenant "${request.tenant}" and dataset "${request.dataset}"`);
    }
    let granted = store.lease(key, maxBytes, seam.clock.now(), limits.leaseMs);
    if (granted === undefined && waitMs > 0) {
      await waitForData(key, waitMs);
      granted = store.lease(key, maxBytes, seam.clock.now(), limits.leaseMs);
    }
    if (granted === undefined) return { status: 204, body: "" };
    let text = "";
    let count = 0;
    for (const chunk of granted.chunks) {
      text += chunk.body;
      count += chunk.count;
    }
    return {
      status: 200,
      headers: {
        "content-type": "application/x-ndjson",
        "x-lease-id": String(granted.id),
        "x-lease-count": String(count),
        "x-lease-until": String(granted.until),
      },
      body: text,
    };
  }

  function ack(body: unknown): HttpResponse {
    const id = leaseId(body);
    const chunks = store.ack(id);
    if (chunks === undefined) return problem(409, `lease ${id} is unknown or lapsed`);
    let events = 0;
    for (const chunk of chunks) {
      wal!.recordAck(chunk.id, chunk.segment);
      events += chunk.count;
    }
    acked.inc(events);
    return json(200, { acked: events });
  }

  const router = new Router()
    .on("POST", /^\/append$/, (request) => append(request.body))
    .on("POST", /^\/lease$/, (request) => lease(parseJsonBody(request)))
    .on("POST", /^\/ack$/, (request) => ack(parseJsonBody(request)))
    .on("POST", /^\/release$/, (request) => {
      const id = leaseId(parseJsonBody(request));
      return store.release(id)
        ? json(200, { released: id })
        : problem(409, `lease ${id} is unknown or lapsed`);
    })
    .on("GET", /^\/stats$/, () =>
      json(200, {
        bytes: store.totalBytes,
        buffers: store.bufferCount,
        chunks: store.totalChunks,
        leases: store.liveLeaseCount(seam.clock.now()),
        highWaterBytes: store.highWater.bytes,
        highWaterBytesAt: store.highWater.bytesAt,
        highWaterBuffers: store.highWater.buffers,
        highWaterBuffersAt: store.highWater.buffersAt,
        highWaterTenantBytes: store.highWater.tenantBytes,
        highWaterTenant: store.highWater.tenant,
        highWaterTenantBytesAt: store.highWater.tenantBytesAt,
        bounds: unbounded
          ? null
          : {
              maxBufferBytes: limits.maxBufferBytes,
              maxTenantBytes: limits.maxTenantBytes,
              maxBuffers: limits.maxBuffers,
            },
      }),
    );
  addObservability(router, {
    metrics,
    drops,
    health: () => ({
      ok: running && diskFailure.reason === null && (config === null || config.pairs() !== null),
      bytes: store.totalBytes,
      disk: diskFailure.reason ?? "ok",
    }),
  });

  /**
   * Events buffered for a job the config in force no longer has are declared dropped, with the
   * config version that removed the job: the pusher stops pushing a job once its config leaves
   * it out, so otherwise they would sit here, expected and never delivered, and hold bytes and a
   * buffer against the bounds. A chunk still leased stays until its push acks it or lets go.
   * Why declared rather than delivered: docs/simulator.md (what exploration found).
   */
  function declareOrphans(): void {
    const pairs = config?.pairs();
    if (pairs == null) return;
    const version = config!.config()!.version;
    const now = seam.clock.now();
    for (const key of store.pairKeys()) {
      if (pairs.has(key)) continue;
      const chunks = store.evict(key, now);
      if (chunks.length === 0) continue;
      const events = chunks.flatMap((chunk) =>
        parseEventLines(chunk.body, Number.MAX_SAFE_INTEGER).map(({ event }) => event),
      );
      const { tenant, dataset } = chunks[0]!;
      drops.declare(
        now,
        `the job for tenant "${tenant}" and dataset "${dataset}" was removed (config version ${version}) while these events were buffered`,
        events,
      );
      orphaned.inc(events.length);
      for (const chunk of chunks) wal!.recordAck(chunk.id, chunk.segment);
    }
    refreshGauges();
  }

  function scheduleOrphanCheck(): void {
    orphanTimer = seam.clock.schedule(limits.configPollMs, () => {
      if (!running) return;
      declareOrphans();
      scheduleOrphanCheck();
    });
  }

  function scheduleFlush(): void {
    flushTimer = seam.clock.schedule(limits.volatileFlushMs, () => {
      if (!running) return;
      void diskFailure
        .attempt("flush the write-ahead log", () => wal!.flush())
        .then(() => {
          if (running && diskFailure.reason === null) scheduleFlush();
        });
    });
  }

  return {
    name: "buffer",
    handle: async (request) => {
      const answer = await router.handle(request);
      refreshGauges();
      return answer;
    },
    metrics,
    async start() {
      const recovered = await recoverWal(seam.disk);
      wal = new WriteAheadLog(
        seam.disk,
        diskFailure,
        recovered.lastSegment,
        limits.walSegmentBytes,
      );
      const now = seam.clock.now();
      for (const chunk of recovered.chunks) {
        const body = chunk.lines.map((line) => line + "\n").join("");
        wal.track(chunk.segment);
        store.add(
          {
            id: chunk.id,
            tenant: chunk.tenant,
            dataset: chunk.dataset,
            body,
            count: chunk.lines.length,
            bytes: body.length,
            segment: chunk.segment,
            leaseId: 0,
            leaseUntil: 0,
          },
          now,
        );
        nextChunkId = Math.max(nextChunkId, chunk.id + 1);
      }
      seam.log.info("buffer recovered", {
        chunks: recovered.chunks.length,
        bytes: store.totalBytes,
        volatile,
        unbounded,
      });
      running = true;
      if (config !== null) {
        await config.start();
        scheduleOrphanCheck();
      }
      if (volatile) scheduleFlush();
    },
    heldBytes: () => store.totalBytes,
    async stop() {
      running = false;
      flushTimer?.cancel();
      orphanTimer?.cancel();
      config?.stop();
      for (const key of [...waiters.keys()]) wake(key);
      if (wal !== null) await diskFailure.attempt("flush the write-ahead log", () => wal!.flush());
    },
  };
}
