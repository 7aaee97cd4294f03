// The forwarder (Cloudflare's Logfwdr): ingests NDJSON event batches from the edge, forwards
// the configured (tenant, dataset) pairs to the buffer and filters the rest.
//
// Answers to the producer: 200 `{accepted}` once the buffer holds the forwarded events (the
// producer records the batch as acknowledged); 429/503 with `retry-after-ms` to push back.
// Flaw `forwarder.dropOnBufferTimeout`: when the buffer does not answer in time, the batch is
// logged and dropped and the producer is still told 200: silent loss.

import { Counter, Gauge } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { peerUrl } from "../core/component.ts";
import { DropLog } from "../core/drops.ts";
import { joinLines, pairKey, type EventLine } from "../core/event.ts";
import { json, parseEventBatch, problem, Router } from "../core/http.ts";
import { backoffMs } from "../core/limits.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import { NetError, type HttpResponse } from "../core/seam.ts";
import { ConfigWatcher, STALE_CONFIG_DOUBT } from "../config/config-watcher.ts";
import { ConfigPolicy } from "./config-policy.ts";

type AppendOutcome =
  | { kind: "appended"; unconfigured: number }
  | { kind: "pushback"; status: number; retryAfterMs: number; reason: string }
  | { kind: "failed"; reason: string };

export function createForwarder(options: ComponentOptions): Component {
  const { seam, flaws, limits, instance } = options;
  const bufferUrl = `${peerUrl(options.peers, "buffer", "forwarder")}/append`;
  const dropOnTimeout = flaws.has("forwarder.dropOnBufferTimeout");
  const metrics = newRegistry("forwarder", instance);
  const events = new Counter({
    name: "forwarder_events_total",
    help: "Events ingested, by outcome",
    labelNames: ["outcome"],
    registers: [metrics],
  });
  const configRejected = new Counter({
    name: "forwarder_config_rejected_total",
    help: "Configs refused by validation (alert on any increase)",
    registers: [metrics],
  });
  const failOpenGauge = new Gauge({
    name: "forwarder_fail_open",
    help: "1 while forwarding every tenant",
    registers: [metrics],
  });
  const failStaticGauge = new Gauge({
    name: "forwarder_fail_static",
    help: "1 while running on a last-known-good config after a refusal",
    registers: [metrics],
  });
  const drops = new DropLog(instance, limits.maxDropRecords);
  const policy = new ConfigPolicy(flaws, limits.maxRemovedPairShare);
  const watcher = new ConfigWatcher(
    seam,
    peerUrl(options.peers, "config", "forwarder"),
    limits,
    "forwarder",
    (parsed) => {
      const decision = policy.consider(parsed, seam.clock.now());
      if (!decision.valid && !decision.applied) configRejected.inc();
      const fields = { ...decision };
      if (decision.valid) seam.log.info("config applied", fields);
      else if (decision.applied) seam.log.error("invalid config applied", fields);
      else seam.log.error("config refused; keeping the config in force", fields);
      failOpenGauge.set(policy.failOpen ? 1 : 0);
      failStaticGauge.set(policy.failStatic ? 1 : 0);
    },
  );

  function pushback(status: number, retryAfterMs: number, reason: string): HttpResponse {
    return problem(status, reason, {
      "retry-after-ms": String(retryAfterMs),
      "retry-after": String(Math.ceil(retryAfterMs / 1000)),
    });
  }

  async function appendOnce(body: string): Promise<AppendOutcome> {
    let response: HttpResponse;
    try {
      response = await seam.net.request({
        method: "POST",
        url: bufferUrl,
        body,
        timeoutMs: limits.bufferTimeoutMs,
      });
    } catch (error) {
      if (error instanceof NetError) return { kind: "failed", reason: `buffer ${error.message}` };
      throw error;
    }
    if (response.status === 200) {
      const answer = JSON.parse(response.body) as { unconfigured?: Array<{ count: number }> };
      const unconfigured = (answer.unconfigured ?? []).reduce((sum, entry) => sum + entry.count, 0);
      return { kind: "appended", unconfigured };
    }
    if (response.status === 429) {
      const retryAfterMs = Number(response.headers?.["retry-after-ms"] ?? limits.pushbackRetryMs);
      return {
        kind: "pushback",
        status: 429,
        retryAfterMs,
        reason: `buffer pushed back: ${response.body.trim()}`,
      };
    }
    return {
      kind: "failed",
      reason: `buffer answered ${response.status}: ${response.body.trim().slice(0, 200)}`,
    };
  }

  /** Appends with bounded, jittered retries on failure (hardened); pushback goes straight back. */
  async function appendToBuffer(body: string): Promise<AppendOutcome> {
    let outcome: AppendOutcome = { kind: "failed", reason: "no attempt" };
    const attempts = dropOnTimeout ? 1 : limits.bufferAttempts;
    for (let attempt = 0; attempt < attempts; attempt++) {
      outcome = await appendOnce(body);
      if (outcome.kind !== "failed") return outcome;
      if (attempt + 1 < attempts)
        await seam.clock.sleep(backoffMs(limits, attempt, seam.rng.next()));
    }
    return outcome;
  }

  /**
   * Events filtered as unconfigured while the config in force may lack a job — it is stale (the
   * config service is unreachable, or this process was paused), or a refused config keeps the
   * last good one (fail-static) — may belong to a job this forwarder has not heard of: they are
   * declared dropped, not filtered silently.
   */
  function declareIfInDoubt(lines: readonly EventLine[], pairs: Set<string>): void {
    const now = seam.clock.now();
    const doubt = watcher.stale(now)
      ? STALE_CONFIG_DOUBT
      : policy.failStatic
        ? "a refused config keeps the last good one in force"
        : null;
    if (doubt === null) return;
    const ids = lines
      .filter(({ event }) => !pairs.has(pairKey(event.tenant, event.dataset)))
      .map(({ event }) => event);
    drops.declare(now, `filtered as unconfigured while ${doubt}`, ids);
  }

  async function ingest(body: string): Promise<HttpResponse> {
    const pairs = policy.pairs();
    if (pairs === null && !policy.failOpen)
      return pushback(503, limits.pushbackRetryMs, "forwarder has no config yet");
    const lines = parseEventBatch(body, limits.maxEventsPerBatch);
    const forward = policy.failOpen
      ? lines
      : lines.filter(({ event }) => pairs!.has(pairKey(event.tenant, event.dataset)));
    const filtered = lines.length - forward.length;
    if (filtered > 0 && !policy.failOpen) declareIfInDoubt(lines, pairs!);
    if (forward.length === 0) {
      events.inc({ outcome: "filtered" }, filtered);
      return json(200, { accepted: lines.length, forwarded: 0, filtered });
    }
    const outcome = await appendToBuffer(joinLines(forward));
    if (outcome.kind === "appended") {
      events.inc({ outcome: "forwarded" }, forward.length - outcome.unconfigured);
      events.inc({ outcome: "filtered" }, filtered + outcome.unconfigured);
      return json(200, {
        accepted: lines.length,
        forwarded: forward.length - outcome.unconfigured,
        filtered: filtered + outcome.unconfigured,
      });
    }
    if (outcome.kind === "pushback") {
      events.inc({ outcome: "pushed-back" }, lines.length);
      return pushback(outcome.status, outcome.retryAfterMs, outcome.reason);
    }
    if (dropOnTimeout) {
      seam.log.error("buffer append failed; dropping the batch", {
        events: forward.length,
        reason: outcome.reason,
      });
      events.inc({ outcome: "dropped" }, forward.length);
      events.inc({ outcome: "filtered" }, filtered);
      return json(200, { accepted: lines.length, forwarded: forward.length, filtered });
    }
    events.inc({ outcome: "pushed-back" }, lines.length);
    return pushback(503, limits.pushbackRetryMs, outcome.reason);
  }

  const router = new Router()
    .on("POST", /^\/ingest$/, (request) => ingest(request.body))
    .on("GET", /^\/config-log$/, () =>
      json(200, {
        version: policy.version,
        failOpen: policy.failOpen,
        failStatic: policy.failStatic,
        decisions: policy.decisions,
      }),
    );
  addObservability(router, {
    metrics,
    drops,
    health: () => ({
      ok: policy.pairs() !== null,
      version: policy.version,
      failOpen: policy.failOpen,
    }),
  });

  return {
    name: "forwarder",
    handle: router.handle,
    metrics,
    async start() {
      await watcher.start();
    },
    async stop() {
      watcher.stop();
    },
  };
}
