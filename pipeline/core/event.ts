// Event identity (docs/architecture.md §2): tenant, dataset, producer, and a dense per-stream
// sequence number. Events travel as NDJSON; the payload carries a checksum of the identity so that
// a sink can tell a genuine event from a corrupt or fabricated one.

export interface EventId {
  tenant: string;
  dataset: string;
  producer: string;
  seq: number;
}

export interface LogEvent extends EventId {
  payload: string;
}

/** One parsed NDJSON line: the event and its original text, forwarded without re-encoding. */
export interface EventLine {
  event: LogEvent;
  line: string;
}

export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Key of a (tenant, dataset) pair: the unit of configuration and of buffering. */
export function pairKey(tenant: string, dataset: string): string {
  return `${tenant}/${dataset}`;
}

/** Key of a stream: the unit over which `seq` is dense. */
export function streamKey(id: { tenant: string; dataset: string; producer: string }): string {
  return `${id.tenant}/${id.dataset}/${id.producer}`;
}

/** FNV-1a over the identity, as 8 hex digits. Cheap, deterministic, dependency-free. */
export function identityChecksum(id: EventId): string {
  const text = `${id.tenant}\u0000${id.dataset}\u0000${id.producer}\u0000${id.seq}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** A payload of `size` characters (at least 8) that starts with the identity checksum. */
export function makePayload(id: EventId, size: number): string {
  const checksum = identityChecksum(id);
  return size <= 8 ? checksum : checksum + "x".repeat(size - 8);
}

let padding = "";

/**
 * The NDJSON line of a generated event (its payload from makePayload), equal to
 * `encodeEvent({...id, payload: makePayload(id, size)})` but built without an object or a
 * JSON.stringify. Only for names that match NAME_PATTERN, which JSON never escapes.
 */
export function encodeGeneratedEvent(id: EventId, size: number): string {
  const checksum = identityChecksum(id);
  if (size > 8 && padding.length < size - 8) padding = "x".repeat(Math.max(size - 8, 256));
  const payload = size <= 8 ? checksum : checksum + padding.slice(0, size - 8);
  return `{"tenant":"${id.tenant}","dataset":"${id.dataset}","producer":"${id.producer}","seq":${id.seq},"payload":"${payload}"}`;
}

export function payloadMatches(event: LogEvent): boolean {
  return event.payload.startsWith(identityChecksum(event));
}

export function encodeEvent(event: LogEvent): string {
  return JSON.stringify(event);
}

export class EventFormatError extends Error {
  readonly lineNumber: number;
  constructor(lineNumber: number, problem: string) {
    super(`line ${lineNumber}: ${problem}`);
    this.name = "EventFormatError";
    this.lineNumber = lineNumber;
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function checkName(lineNumber: number, record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== "string" || !NAME_PATTERN.test(value)) {
    throw new EventFormatError(
      lineNumber,
      `field "${field}" is ${describe(value)}, expected a string of 1-64 characters [A-Za-z0-9_.-]`,
    );
  }
  return value;
}

/** Validates one decoded JSON value as an event; throws EventFormatError naming the field. */
export function toEvent(lineNumber: number, value: unknown): LogEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EventFormatError(lineNumber, `expected a JSON object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  const tenant = checkName(lineNumber, record, "tenant");
  const dataset = checkName(lineNumber, record, "dataset");
  const producer = checkName(lineNumber, record, "producer");
  const seq = record.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    throw new EventFormatError(
      lineNumber,
      `field "seq" is ${describe(seq)}, expected a non-negative integer`,
    );
  }
  const payload = record.payload;
  if (typeof payload !== "string") {
    throw new EventFormatError(
      lineNumber,
      `field "payload" is ${describe(payload)}, expected a string`,
    );
  }
  return { tenant, dataset, producer, seq, payload };
}

/**
 * Parses an NDJSON body into events, all or nothing: the first bad line throws, so a caller
 * never acts on part of a batch. Blank lines (and a trailing newline) are ignored.
 */
export function parseEventLines(body: string, maxEvents: number): EventLine[] {
  const lines: EventLine[] = [];
  let start = 0;
  let lineNumber = 0;
  while (start < body.length) {
    let end = body.indexOf("\n", start);
    if (end === -1) end = body.length;
    lineNumber++;
    const line = body.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0) continue;
    if (lines.length >= maxEvents) {
      throw new EventFormatError(lineNumber, `more than ${maxEvents} events in one batch`);
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(line);
    } catch (error) {
      throw new EventFormatError(lineNumber, `malformed JSON (${(error as Error).message})`);
    }
    lines.push({ event: toEvent(lineNumber, decoded), line });
  }
  return lines;
}

export function joinLines(lines: readonly EventLine[]): string {
  let body = "";
  for (const { line } of lines) body += line + "\n";
  return body;
}
