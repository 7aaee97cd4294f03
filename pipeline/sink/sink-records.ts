// A sink's record log (docs/architecture.md §5): one JSON line per durable record, read back in
// full at start, and paged on `/records?cursor=N` for the ledger. The reference sink and the
// targets' recorders (harness/target/recorders, docs/targets.md "Egress") share it, so that the
// ledger's collector reads both alike.

import type { StreamRanges } from "../core/drops.ts";
import { json, queryInteger } from "../core/http.ts";
import type { HttpRequest, HttpResponse, Log } from "../core/seam.ts";

export interface SinkRecord {
  /** Position in this sink's record log. */
  index: number;
  at: number;
  destination: string;
  count: number;
  streams: StreamRanges[];
  /** Events whose payload does not match their identity: recorded, never counted as delivered. */
  corrupt: StreamRanges[];
}

export const RECORD_FILE = "records.ndjson";
const MAX_RECORDS_PER_PAGE = 5000;

/**
 * The records of a record file, numbered in order. A line that does not parse is a torn append
 * from a crash (only the last one can be: appends stop at the first failure) and is skipped.
 * Each record keeps any other field its writer stored in the line.
 */
export function parseRecordFile(
  text: string | null,
  log: Log,
): Array<SinkRecord & Record<string, unknown>> {
  const records: Array<SinkRecord & Record<string, unknown>> = [];
  for (const line of (text ?? "").split("\n")) {
    if (line.length === 0) continue;
    try {
      records.push({ ...(JSON.parse(line) as SinkRecord), index: records.length });
    } catch {
      log.warn("ignoring a torn record line at the end of the record file");
    }
  }
  return records;
}

/** One page of `/records?cursor=N[&max=M]`: `{ records, next, total }`. */
export function recordsPage(records: readonly SinkRecord[], request: HttpRequest): HttpResponse {
  const cursor = queryInteger(request, "cursor", 0);
  const max =
    queryInteger(request, "max", MAX_RECORDS_PER_PAGE, MAX_RECORDS_PER_PAGE) ||
    MAX_RECORDS_PER_PAGE;
  const page = records.slice(cursor, cursor + max);
  return json(200, { records: page, next: cursor + page.length, total: records.length });
}
