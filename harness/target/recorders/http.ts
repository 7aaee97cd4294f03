// The HTTP recorder (docs/targets.md, "Egress"): takes a POST on any path, finds the events in its
// body (http-body.ts) and answers 200 once they are durable, so a pipeline that retries until 2xx
// loses nothing here. The reference sink's faults (slow, error, throttle; pipeline/sink/
// sink-fault.ts) are switched on the admin server's /fault and apply to this listener. With
// `destinationFromPath`, each record names the destination its path ends with, as the reference
// sink's records do (POST /ingest/<destination>), so that it can stand in for a sink of the
// reference pipeline (docs/targets.md, "The reference pipeline as a target").

import { Counter } from "prom-client";
import { json, parseJsonBody, Router } from "../../../pipeline/core/http.ts";
import { DEFAULT_LIMITS } from "../../../pipeline/core/limits.ts";
import type { HttpRequest } from "../../../pipeline/core/seam.ts";
import { serve, type RunningServer } from "../../../pipeline/host/server.ts";
import { faultAnswer, parseSinkFault, type SinkFault } from "../../../pipeline/sink/sink-fault.ts";
import { scanBody } from "./http-body.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";

/**
 * Any path; with `destinationFromPath`, one whose last segment is a destination, as the reference
 * sink's path segment (pipeline/sink/sink.ts).
 */
const ANY_PATH = /^\//;
const DESTINATION_AT_END = /^\/(?:[^?#]*\/)?([A-Za-z0-9_.-]{1,128})$/;

export function httpReceiver(
  context: ReceiverContext,
  options: { listenPort: number; destinationFromPath?: boolean },
): Receiver {
  const { records, clock, log } = context;
  const faulted = new Counter({
    name: "recorder_faulted_requests_total",
    help: "Requests answered by an injected sink fault",
    labelNames: ["mode"],
    registers: [context.metrics],
  });
  let fault: SinkFault = { mode: "none" };
  let server: RunningServer | undefined;
  let closing: Promise<void> | undefined;

  async function ingest(request: HttpRequest, [destination]: string[]) {
    const faulty = await faultAnswer(fault, clock);
    if (faulty !== null) {
      faulted.inc({ mode: faulty.mode });
      return faulty.answer;
    }
    const arrivals = scanBody(request.body);
    records.diskFailure.check();
    await records.add(arrivals, undefined, destination);
    return json(200, { received: arrivals.events.length, corrupt: arrivals.corrupt.length });
  }

  const listener = new Router().on(
    "POST",
    options.destinationFromPath === true ? DESTINATION_AT_END : ANY_PATH,
    ingest,
  );

  return {
    async start() {
      server = await serve({
        handle: listener.handle,
        host: "127.0.0.1",
        port: options.listenPort,
        limits: DEFAULT_LIMITS,
        log,
      });
    },
    close() {
      closing ??= (async () => {
        await server?.close();
        await records.settled();
      })();
      return closing;
    },
    health: () => ({ fault: fault.mode }),
    addRoutes(router) {
      router
        .on("GET", /^\/fault$/, () => json(200, fault))
        .on("POST", /^\/fault$/, (request) => {
          fault = parseSinkFault(parseJsonBody(request));
          log.warn("sink fault set", { fault });
          return json(200, fault);
        });
    },
  };
}
