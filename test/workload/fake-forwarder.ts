// A fake forwarder behind a fake Net: parses each ingest batch like the real one would, answers
// after a virtual latency as a test script says, and remembers exactly which events it took
// responsibility for (answered 2xx, or accepted before the answer was lost).

import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import { parseEventLines, streamKey, type LogEvent } from "../../pipeline/core/event.ts";
import {
  NetError,
  type HttpResponse,
  type Net,
  type NetFailure,
  type OutgoingRequest,
} from "../../pipeline/core/seam.ts";
import type { FakeClock } from "./fake-clock.ts";

export type Reply =
  | { status: number; headers?: Record<string, string>; body?: string; latencyMs?: number }
  /** The request fails in transport; with `accepted`, after the forwarder took the batch. */
  | { failure: NetFailure; accepted?: boolean; latencyMs?: number };

export interface IngestRequest {
  /** 0-based over all requests. */
  index: number;
  at: number;
  url: string;
  body: string;
  events: LogEvent[];
  /** How many times this same body was sent before (0 on the first attempt). */
  resend: number;
}

export type Script = (request: IngestRequest) => Reply;

export const acceptAll: Script = (request) => ({
  status: 200,
  body: JSON.stringify({ accepted: request.events.length }),
});

export class FakeForwarder implements Net {
  readonly requests: IngestRequest[] = [];
  /** Events the forwarder took responsibility for, per stream key. */
  readonly accepted = new Map<string, IntervalSet>();
  script: Script;
  latencyMs: number;
  private readonly clock: FakeClock;
  private readonly sendsByBody = new Map<string, number>();
  private open = 0;
  /** Most requests outstanding at once. */
  highWaterInFlight = 0;

  constructor(clock: FakeClock, script: Script = acceptAll, latencyMs = 5) {
    this.clock = clock;
    this.script = script;
    this.latencyMs = latencyMs;
  }

  request(outgoing: OutgoingRequest): Promise<HttpResponse> {
    const body = outgoing.body ?? "";
    const resend = this.sendsByBody.get(body) ?? 0;
    this.sendsByBody.set(body, resend + 1);
    const request: IngestRequest = {
      index: this.requests.length,
      at: this.clock.now(),
      url: outgoing.url,
      body,
      events: parseEventLines(body, 1_000_000).map((line) => line.event),
      resend,
    };
    this.requests.push(request);
    const reply = this.script(request);
    const latency = reply.latencyMs ?? this.latencyMs;
    this.open++;
    this.highWaterInFlight = Math.max(this.highWaterInFlight, this.open);
    return new Promise((resolve, reject) => {
      const finish = (): void => void this.open--;
      if (latency > outgoing.timeoutMs) {
        this.clock.schedule(outgoing.timeoutMs, () => {
          finish();
          reject(new NetError("timeout", `no answer in ${outgoing.timeoutMs} ms`));
        });
        return;
      }
      this.clock.schedule(latency, () => {
        finish();
        if ("failure" in reply) {
          if (reply.accepted === true) this.take(request.events);
          reject(new NetError(reply.failure, "scripted"));
          return;
        }
        if (reply.status >= 200 && reply.status < 300) this.take(request.events);
        resolve({ status: reply.status, headers: reply.headers ?? {}, body: reply.body ?? "" });
      });
    });
  }

  /** Every event sent, first attempts only, in sending order. */
  firstAttemptEvents(): LogEvent[] {
    return this.requests.filter((request) => request.resend === 0).flatMap((r) => r.events);
  }

  private take(events: LogEvent[]): void {
    for (const event of events) {
      const key = streamKey(event);
      let set = this.accepted.get(key);
      if (set === undefined) {
        set = new IntervalSet();
        this.accepted.set(key, set);
      }
      set.add(event.seq);
    }
  }
}
