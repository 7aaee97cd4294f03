// The simulated network: every service is `http://<name>`, requests go straight to its handler
// under virtual time, and each link (`forwarder->buffer`) can carry the counterparts of the
// Toxiproxy toxics (latency, bandwidth, slicer, timeout, reset_peer, limit_data, slow_close)
// and be taken down. Requests are gated by both ends: a paused peer holds them, a dead one
// refuses them (or resets them, when it dies with them in flight), and the caller's deadline
// turns silence into a timeout.

import {
  NetError,
  type HttpRequest,
  type HttpResponse,
  type Net,
  type OutgoingRequest,
  type Rng,
} from "../../../pipeline/core/seam.ts";
import type { LinkControl } from "../../faults/fault.ts";
import type { LinkProvider } from "../links.ts";
import { never, type Gate } from "./gate.ts";
import type { Scheduler } from "./scheduler.ts";

export const TOXIC_TYPES = [
  "latency",
  "bandwidth",
  "slow_close",
  "timeout",
  "reset_peer",
  "slicer",
  "limit_data",
] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];

export interface SimToxic {
  name: string;
  type: ToxicType;
  stream: "upstream" | "downstream";
  toxicity: number;
  attributes: Record<string, number>;
}

interface Link {
  enabled: boolean;
  toxics: SimToxic[];
}

/** A service as the network sees it: its current incarnation's gate and handler. */
export interface Endpoint {
  gate: Gate;
  handler: ((request: HttpRequest) => Promise<HttpResponse>) | null;
  /** Whether it accepts connections (started and not dead). */
  listening: boolean;
}

/** What one direction of a link does to a message of `bytes` bytes. */
type Effect =
  { kind: "pass"; delayMs: number } | { kind: "stall" } | { kind: "reset"; afterMs: number };

/** Requests at one virtual instant above this are a livelock in the code under test. */
const MAX_REQUESTS_PER_INSTANT = 20_000;

export class SimNet {
  private readonly scheduler: Scheduler;
  private readonly rng: Rng;
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly links = new Map<string, Link>();
  private instant = -1;
  private requestsThisInstant = 0;
  /** Requests sent so far (a figure for benchmarks). */
  requests = 0;

  constructor(scheduler: Scheduler, rng: Rng) {
    this.scheduler = scheduler;
    this.rng = rng;
  }

  setEndpoint(name: string, endpoint: Endpoint): void {
    this.endpoints.set(name, endpoint);
  }

  /** The Net a caller sees: `caller` names it for link lookup; its gate receives answers. */
  view(caller: string, gate: Gate): Net {
    return { request: (request) => this.send(caller, gate, request) };
  }

  /** Fault links over this network: the simulator's counterpart of Toxiproxy proxies. */
  faultLinks(): LinkProvider & LinkControl {
    const opened: string[] = [];
    const linkOf = (name: string): Link => {
      const link = this.links.get(name);
      if (link === undefined || !opened.includes(name)) {
        throw new Error(`link "${name}" has no fault proxy; expected one of: ${opened.join(", ")}`);
      }
      return link;
    };
    return {
      open: async ({ name, upstream }) => {
        if (!this.links.has(name)) this.links.set(name, { enabled: true, toxics: [] });
        if (!opened.includes(name)) opened.push(name);
        return { url: upstream };
      },
      close: async () => {
        for (const name of opened.splice(0)) this.links.delete(name);
      },
      names: () => [...opened],
      addToxic: async (name, toxic) => {
        const link = linkOf(name);
        if (!(TOXIC_TYPES as readonly string[]).includes(toxic.type)) {
          throw new Error(`toxic type "${toxic.type}" is not one of ${TOXIC_TYPES.join(", ")}`);
        }
        if (link.toxics.some((existing) => existing.name === toxic.name)) {
          throw new Error(`toxic "${toxic.name}" already exists on ${name}`);
        }
        link.toxics.push({
          name: toxic.name,
          type: toxic.type as ToxicType,
          stream: toxic.stream,
          toxicity: toxic.toxicity ?? 1,
          attributes: { ...toxic.attributes },
        });
        this.scheduler.record(`toxic + ${name} ${toxic.type} ${toxic.stream}`);
      },
      removeToxic: async (name, toxicName) => {
        const link = linkOf(name);
        const index = link.toxics.findIndex((toxic) => toxic.name === toxicName);
        if (index < 0) throw new Error(`toxic "${toxicName}" is not on ${name}`);
        link.toxics.splice(index, 1);
        this.scheduler.record(`toxic - ${name} ${toxicName}`);
      },
      setEnabled: async (name, enabled) => {
        linkOf(name).enabled = enabled;
        this.scheduler.record(`link ${name} ${enabled ? "up" : "down"}`);
      },
    };
  }

  private send(caller: string, callerGate: Gate, request: OutgoingRequest): Promise<HttpResponse> {
    if (!callerGate.isAlive() || !this.countRequest()) return never();
    const { host, path, query } = splitUrl(request.url);
    const linkName = `${caller}->${host}`;
    const link = this.links.get(linkName);
    const body = request.body ?? "";
    const scheduler = this.scheduler;
    return new Promise<HttpResponse>((resolve, reject) => {
      let done = false;
      let forgetPeer: (() => void) | null = null;
      const tracing = scheduler.trace !== null;
      if (tracing) scheduler.record(`${caller}->${host} ${request.method} ${path} ${body.length}B`);
      const finish = (settle: () => void, outcome: string): void => {
        if (done) return;
        done = true;
        if (tracing) scheduler.record(`${caller}<-${host} ${request.method} ${path} ${outcome}`);
        deadline.cancel();
        forgetPeer?.();
        callerGate.run(settle);
      };
      const fail = (failure: NetError["failure"], detail: string): void =>
        finish(
          () => reject(new NetError(failure, `${request.method} ${request.url}: ${detail}`)),
          failure,
        );
      const deadline = scheduler.schedule(request.timeoutMs, () =>
        fail("timeout", `no answer in ${request.timeoutMs} ms`),
      );
      // A dead caller's connections close with it.
      const forgetCaller = callerGate.whenDead(() => {
        done = true;
        deadline.cancel();
        forgetPeer?.();
      });
      const settleCaller = (response: HttpResponse): void => {
        forgetCaller();
        finish(() => resolve(response), `${response.status} ${response.body.length}B`);
      };
      const failCaller = (failure: NetError["failure"], detail: string): void => {
        forgetCaller();
        fail(failure, detail);
      };

      if (link !== undefined && !link.enabled) {
        queueMicrotask(() => failCaller("refused", `link ${linkName} is down`));
        return;
      }
      const up = this.effect(link, "upstream", body.length);
      const deliver = (): void => {
        if (done) return;
        const endpoint = this.endpoints.get(host);
        if (endpoint === undefined || !endpoint.listening || endpoint.handler === null) {
          // Through a proxy the connection was accepted and is then dropped; direct, refused.
          if (link !== undefined) failCaller("reset", `${host} is not listening`);
          else failCaller("refused", `${host} is not listening`);
          return;
        }
        const handler = endpoint.handler;
        forgetPeer = endpoint.gate.whenDead(() => {
          forgetPeer = null;
          failCaller("reset", `${host} died`);
        });
        endpoint.gate.run(() => {
          handler({
            method: request.method,
            path,
            query,
            headers: request.headers ?? {},
            body,
          }).then(
            (response) => {
              if (done || !endpoint.gate.isAlive()) return;
              const down = this.effect(link, "downstream", response.body.length);
              this.apply(down, () => settleCaller(response), failCaller);
            },
            (error: unknown) => {
              if (done || !endpoint.gate.isAlive()) return;
              // An unhandled error in a handler is a 500 on a real host.
              const message = error instanceof Error ? error.message : String(error);
              settleCaller({
                status: 500,
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ error: message, status: 500 }) + "\n",
              });
            },
          );
        });
      };
      this.apply(up, deliver, failCaller);
    });
  }

  private apply(
    effect: Effect,
    onPass: () => void,
    onFail: (failure: NetError["failure"], detail: string) => void,
  ): void {
    if (effect.kind === "stall") return;
    if (effect.kind === "reset") {
      this.scheduler.schedule(effect.afterMs, () => onFail("reset", "connection reset by a toxic"));
      return;
    }
    if (effect.delayMs <= 0) queueMicrotask(onPass);
    else this.scheduler.schedule(effect.delayMs, onPass);
  }

  /** What the toxics of one direction do to a message; each toxic rolls its toxicity. */
  private effect(link: Link | undefined, stream: "upstream" | "downstream", bytes: number): Effect {
    let delayMs = 0;
    if (link === undefined) return { kind: "pass", delayMs };
    for (const toxic of link.toxics) {
      if (toxic.stream !== stream) continue;
      if (toxic.toxicity < 1 && this.rng.next() >= toxic.toxicity) continue;
      const a = toxic.attributes;
      switch (toxic.type) {
        case "latency": {
          const jitter = a.jitter ?? 0;
          delayMs += Math.max(
            0,
            (a.latency ?? 0) + (jitter === 0 ? 0 : jitter * (2 * this.rng.next() - 1)),
          );
          break;
        }
        case "bandwidth": {
          const rate = a.rate ?? 0;
          if (rate <= 0) return { kind: "stall" };
          delayMs += bytes / rate; // KB/s with KB = 1000 bytes: bytes ÷ rate = ms
          break;
        }
        case "slicer": {
          const pieces = Math.ceil(bytes / Math.max(1, a.average_size ?? 1));
          delayMs += (pieces * (a.delay ?? 0)) / 1000;
          break;
        }
        case "timeout":
          return (a.timeout ?? 0) === 0
            ? { kind: "stall" }
            : { kind: "reset", afterMs: a.timeout! };
        case "reset_peer":
          return { kind: "reset", afterMs: a.timeout ?? 0 };
        case "limit_data":
          if (bytes > (a.bytes ?? 0)) return { kind: "reset", afterMs: delayMs };
          break;
        case "slow_close":
          // Delays only the close of a connection, which HTTP keep-alive never waits for.
          break;
      }
    }
    return { kind: "pass", delayMs };
  }

  /** False (and the run fails) past the livelock bound: the caller's chain must stop here. */
  private countRequest(): boolean {
    this.requests++;
    const now = this.scheduler.now();
    if (now !== this.instant) {
      this.instant = now;
      this.requestsThisInstant = 0;
    }
    if (++this.requestsThisInstant > MAX_REQUESTS_PER_INSTANT) {
      this.scheduler.fail(
        new Error(
          `livelock: more than ${MAX_REQUESTS_PER_INSTANT} requests at one virtual instant (a loop without a wait)`,
        ),
      );
      return false;
    }
    return true;
  }
}

function splitUrl(url: string): { host: string; path: string; query: URLSearchParams } {
  const rest = url.startsWith("http://") ? url.slice(7) : url;
  const slash = rest.indexOf("/");
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const target = slash < 0 ? "/" : rest.slice(slash);
  const mark = target.indexOf("?");
  return mark < 0
    ? { host, path: target, query: new URLSearchParams() }
    : { host, path: target.slice(0, mark), query: new URLSearchParams(target.slice(mark + 1)) };
}
