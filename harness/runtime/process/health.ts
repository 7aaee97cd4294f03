// Asks a service's /healthz, on a fresh connection each time: a pooled socket to a service
// that was paused or killed in between would only add confusion.

import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

export type HealthAnswer = { status: number } | { error: string };

/** One GET /healthz: the status, or why there was none (refused, no answer within timeoutMs). */
export function probeHealth(baseUrl: string, timeoutMs: number): Promise<HealthAnswer> {
  return probeHttp(new URL("/healthz", baseUrl), timeoutMs);
}

/** One GET of `url`: the status, or why there was none. */
export function probeHttp(url: URL | string, timeoutMs: number): Promise<HealthAnswer> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs });
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", (error: NodeJS.ErrnoException) =>
      resolve({ error: error.code ?? error.message }),
    );
    request.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
      response.on("error", (error) => resolve({ error: error.message }));
    });
  });
}

export function describeHealth(answer: HealthAnswer): string {
  return "status" in answer ? `answered ${answer.status}` : `failed: ${answer.error}`;
}

/**
 * Polls /healthz until it answers 200 (resolves undefined) or `deadline` passes, or `gaveUp()`
 * says to stop (resolves with the last answer, for the error message).
 */
export async function pollHealthy(
  baseUrl: string,
  options: { deadline: number; intervalMs: number; gaveUp: () => boolean },
): Promise<HealthAnswer | undefined> {
  let last: HealthAnswer = { error: "not asked" };
  let lastStatus: HealthAnswer | undefined;
  while (Date.now() < options.deadline && !options.gaveUp()) {
    const remaining = Math.max(1, options.deadline - Date.now());
    last = await probeHealth(baseUrl, Math.min(remaining, 1_000));
    if ("status" in last) {
      if (last.status === 200) return undefined;
      lastStatus = last;
    }
    await sleep(options.intervalMs);
  }
  // A status says more than a last probe cut short by the deadline ("no answer within 3 ms").
  return lastStatus ?? last;
}
