// JSON over the determinism seam's Net, for the harness: the experiment runner, the observer,
// the ledger's collectors and the faults all reach services this way, so the same code runs
// over real sockets (process and container runtimes) and over the simulator's network.

import type { Net } from "../../pipeline/core/seam.ts";

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(method: string, url: string, status: number, body: string) {
    super(`${method} ${url} answered ${status}: ${body.trim().slice(0, 300)}`);
    this.name = "HttpStatusError";
    this.status = status;
  }
}

/** Sends one request with a JSON body (or none); throws on transport failure and on non-2xx. */
export async function requestJson<T>(
  net: Net,
  method: string,
  url: string,
  options: { body?: unknown; timeoutMs: number },
): Promise<T> {
  let response;
  try {
    response = await net.request({
      method,
      url,
      timeoutMs: options.timeoutMs,
      ...(options.body === undefined
        ? {}
        : {
            headers: { "content-type": "application/json" },
            body: JSON.stringify(options.body),
          }),
    });
  } catch (error) {
    throw new Error(`${method} ${url} failed: ${(error as Error).message}`, { cause: error });
  }
  if (response.status < 200 || response.status > 299) {
    throw new HttpStatusError(method, url, response.status, response.body);
  }
  return (response.body === "" ? undefined : JSON.parse(response.body)) as T;
}

/** GET that answers null instead of throwing: for sampling, where a miss is expected. */
export async function probeJson<T>(net: Net, url: string, timeoutMs: number): Promise<T | null> {
  try {
    return await requestJson<T>(net, "GET", url, { timeoutMs });
  } catch {
    return null;
  }
}

/** GET of a body as text (a config may not be JSON at all); null on failure or non-2xx. */
export async function probeText(net: Net, url: string, timeoutMs: number): Promise<string | null> {
  try {
    const response = await net.request({ method: "GET", url, timeoutMs });
    return response.status >= 200 && response.status <= 299 ? response.body : null;
  } catch {
    return null;
  }
}

/** Whether `url` answers 200 within `timeoutMs` (e.g. a /healthz probe). */
export async function answersOk(net: Net, url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await net.request({ method: "GET", url, timeoutMs });
    return response.status === 200;
  } catch {
    return false;
  }
}
