// The events in a body a pipeline sends over HTTP (docs/targets.md, "Egress"): NDJSON, a JSON
// array or object, or any text. Every line is scanned for identity tokens, wherever a relay put
// them (a `message` field, a wrapped record); a line that is the reference pipeline's own event
// (`{"tenant","dataset","producer","seq","payload"}`), or a JSON array of them, counts as those
// events, judged by their payload's checksum as the reference sink judges them.

import { payloadMatches, toEvent, type LogEvent } from "../../../pipeline/core/event.ts";
import { scanTokens, type ScannedEvents } from "../identity.ts";
import { emptyArrivals } from "./record-log.ts";

/** The reference pipeline's events on one line, or null when the line is anything else. */
function nativeEvents(line: string): LogEvent[] | null {
  // Cheap test first: most lines of a third-party pipeline are not native events.
  if (!line.includes('"payload"')) return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  const events: LogEvent[] = [];
  for (const candidate of Array.isArray(value) ? value : [value]) {
    try {
      events.push(toEvent(0, candidate));
    } catch {
      return null;
    }
  }
  return events;
}

export function scanBody(body: string, into: ScannedEvents = emptyArrivals()): ScannedEvents {
  let start = 0;
  while (start < body.length) {
    let end = body.indexOf("\n", start);
    if (end === -1) end = body.length;
    const line = body.slice(start, end);
    start = end + 1;
    const events = nativeEvents(line);
    if (events === null) {
      scanTokens(line, into);
      continue;
    }
    for (const event of events) {
      const { tenant, dataset, producer, seq } = event;
      (payloadMatches(event) ? into.events : into.corrupt).push({ tenant, dataset, producer, seq });
    }
  }
  return into;
}
