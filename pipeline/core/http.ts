// Small helpers shared by every component's request handler: JSON answers, errors that name
// the problem, and a router over method and path.

import { EventFormatError, parseEventLines, type EventLine } from "./event.ts";
import type { HttpRequest, HttpResponse } from "./seam.ts";

export function json(
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): HttpResponse {
  return {
    status,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(value) + "\n",
  };
}

export function problem(
  status: number,
  message: string,
  headers?: Record<string, string>,
): HttpResponse {
  return json(status, { error: message, status }, headers);
}

/** An error thrown inside a handler that becomes an answer with its status and message. */
export class HttpProblem extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "HttpProblem";
    this.status = status;
  }
}

/** The client's mistake: a 4xx answer naming it. */
export class BadRequest extends HttpProblem {
  constructor(message: string, status = 400) {
    super(message, status);
    this.name = "BadRequest";
  }
}

/** This component cannot do what was asked now: a 503 answer naming why. */
export class Unavailable extends HttpProblem {
  constructor(message: string) {
    super(message, 503);
    this.name = "Unavailable";
  }
}

/** Parses a JSON body or throws BadRequest naming the problem. */
export function parseJsonBody(request: HttpRequest): unknown {
  if (request.body.trim().length === 0)
    throw new BadRequest("request body is empty, expected JSON");
  try {
    return JSON.parse(request.body);
  } catch (error) {
    throw new BadRequest(`request body is not valid JSON (${(error as Error).message})`);
  }
}

/** Reads a non-negative integer query parameter, or the default when absent. */
export function queryInteger(
  request: HttpRequest,
  name: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = request.query.get(name);
  if (raw === null || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new BadRequest(
      `query parameter "${name}" is "${raw}", expected an integer from 0 to ${max}`,
    );
  }
  return value;
}

export type Route = (
  request: HttpRequest,
  params: string[],
) => Promise<HttpResponse> | HttpResponse;

/** A percent-encoded path segment, decoded; malformed encoding is the client's error. */
function decodedSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequest(
      `path ${JSON.stringify(path)} has malformed percent-encoding in ${JSON.stringify(segment)}`,
    );
  }
}

interface RouteEntry {
  method: string;
  pattern: RegExp;
  route: Route;
}

/**
 * Method + path routing with regex captures as params. Unknown paths get 404, known paths with
 * another method 405, and an HttpProblem thrown by a route becomes its answer.
 */
export class Router {
  private readonly routes: RouteEntry[] = [];

  on(method: string, pattern: RegExp, route: Route): this {
    this.routes.push({ method, pattern, route });
    return this;
  }

  readonly handle = async (request: HttpRequest): Promise<HttpResponse> => {
    let pathMatched = false;
    for (const entry of this.routes) {
      const match = entry.pattern.exec(request.path);
      if (match === null) continue;
      pathMatched = true;
      if (entry.method !== request.method) continue;
      try {
        return await entry.route(
          request,
          match.slice(1).map((part) => decodedSegment(part, request.path)),
        );
      } catch (error) {
        if (error instanceof HttpProblem) return problem(error.status, error.message);
        throw error;
      }
    }
    return pathMatched
      ? problem(405, `method ${request.method} not allowed on ${request.path}`)
      : problem(404, `no such path: ${request.path}`);
  };
}

/** Parses an NDJSON batch of events, all or nothing; a bad line becomes a 400 naming it. */
export function parseEventBatch(body: string, maxEvents: number): EventLine[] {
  try {
    return parseEventLines(body, maxEvents);
  } catch (error) {
    if (error instanceof EventFormatError) throw new BadRequest(error.message);
    throw error;
  }
}
