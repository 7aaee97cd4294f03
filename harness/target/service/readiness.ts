// How a third-party service shows from outside that it is ready, and later that it is healthy
// (docs/targets.md, "Readiness"): it accepts a TCP connection, answers an HTTP GET, or has
// written a line to its log. Each probe runs on a fresh connection: a pooled socket to a service
// that was paused or killed in between would only add confusion.

import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { describeHealth, probeHttp } from "../../runtime/process/health.ts";

/** The longest a single readiness or health probe waits for its answer. */
export const PROBE_TIMEOUT_MS = 1_000;

export type Probe =
  | { tcp: { host: string; port: number } }
  | { http: { url: string; status?: number } }
  | { logLine: RegExp };

/** What a probe is, for error messages: `TCP connect to 127.0.0.1:6379`. */
export function describeProbe(probe: Probe): string {
  if ("tcp" in probe) return `TCP connect to ${probe.tcp.host}:${probe.tcp.port}`;
  if ("http" in probe) return `GET ${probe.http.url}`;
  return `a log line matching ${String(probe.logLine)}`;
}

/** What one probe found when it did not pass; `timedOut` when it got no answer in time. */
export interface ProbeFailure {
  failure: string;
  timedOut: boolean;
}

/**
 * Runs `probe` once: undefined when it passed, else what it found instead. A log line probe
 * asks `logLineSeen` (whether a line of the current process matched).
 */
export async function probeOnce(
  probe: Probe,
  context: { timeoutMs: number; logLineSeen: () => boolean },
): Promise<ProbeFailure | undefined> {
  if ("tcp" in probe) return connectOnce(probe.tcp.host, probe.tcp.port, context.timeoutMs);
  if ("http" in probe) {
    const answer = await probeHttp(probe.http.url, context.timeoutMs);
    if (!("status" in answer))
      return { failure: describeHealth(answer), timedOut: answer.error.startsWith("no answer") };
    const expected = probe.http.status;
    const passed =
      expected === undefined
        ? answer.status >= 200 && answer.status < 300
        : answer.status === expected;
    if (passed) return undefined;
    return { failure: `${describeHealth(answer)}, expected ${expected ?? "2xx"}`, timedOut: false };
  }
  return context.logLineSeen() ? undefined : { failure: "no such line yet", timedOut: false };
}

function connectOnce(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<ProbeFailure | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const settle = (failure: ProbeFailure | undefined): void => {
      socket.destroy();
      resolve(failure);
    };
    socket.setTimeout(timeoutMs, () =>
      settle({ failure: `no connection within ${timeoutMs} ms`, timedOut: true }),
    );
    socket.once("connect", () => settle(undefined));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      settle({ failure: `failed: ${error.code ?? error.message}`, timedOut: false }),
    );
  });
}

/** How waiting for readiness ended: the probe passed, the service stopped, or the deadline. */
export type ReadyOutcome = { ready: true } | { exited: true } | { failure: string };

export interface ReadyWatch {
  deadline: number;
  pollMs: number;
  /** Whether a line of the current start matched a log-line probe. */
  logLineSeen(): boolean;
  /** Whether the service has stopped (asked after each probe). */
  gone(): boolean;
  /** Settles when it stops: the wait between probes ends at once. */
  exit: Promise<unknown>;
}

/** Polls `probe` until it passes, the service is gone or the deadline passes. */
export async function pollUntilReady(probe: Probe, watch: ReadyWatch): Promise<ReadyOutcome> {
  // An answer says more than a last probe cut short by the deadline ("no answer within 3 ms").
  let answered: string | undefined;
  for (;;) {
    const found = await probeOnce(probe, {
      timeoutMs: Math.max(1, Math.min(watch.deadline - Date.now(), PROBE_TIMEOUT_MS)),
      logLineSeen: watch.logLineSeen,
    });
    if (watch.gone()) return { exited: true };
    if (found === undefined) return { ready: true };
    if (!found.timedOut) answered = found.failure;
    if (Date.now() >= watch.deadline) return { failure: answered ?? found.failure };
    await Promise.race([sleep(watch.pollMs), watch.exit]);
  }
}
