// Syslog messages as the workload writes them (docs/targets.md, "Ingress"): one message per event,
// its MSG the event's identity token, in the header of RFC 5424 or of RFC 3164 (BSD), framed for
// TCP as RFC 6587 describes: octet counting (`<length> <message>`) or a trailing LF.
//
//   RFC 5424: <134>1 2026-12-01T15:55:45.123Z HOSTNAME APP-NAME PROCID - - MSG
//   RFC 3164: <134>Dec  1 15:55:45 HOSTNAME APP-NAME: MSG

import { encodeToken } from "../identity.ts";
import type { Batch } from "../../workload/batch.ts";
import { eventIds } from "./sending.ts";

export const SYSLOG_FRAMINGS = ["octet-counting", "lf"] as const;
export type SyslogFraming = (typeof SYSLOG_FRAMINGS)[number];
export const SYSLOG_FORMATS = ["rfc5424", "rfc3164"] as const;
export type SyslogFormat = (typeof SYSLOG_FORMATS)[number];

/** Printable US-ASCII without a space, as RFC 5424 allows in HOSTNAME (255 at most). */
export const SYSLOG_HOSTNAME_PATTERN = /^[!-~]{1,255}$/;
/** An RFC 3164 TAG is at most 32 alphanumeric characters; this also fits RFC 5424's APP-NAME. */
export const SYSLOG_APP_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
export const SYSLOG_HOSTNAME_DEFAULT = "spillway";
export const SYSLOG_APP_NAME_DEFAULT = "spillway";

/** Facility local0 (16), severity informational (6): 16 * 8 + 6. */
const PRI = 134;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export interface SyslogHeaderFields {
  format: SyslogFormat;
  hostname: string;
  appName: string;
  procId: number;
}

/** Everything before MSG, with a separating space; `now` in ms since the epoch. */
export function syslogHeader(fields: SyslogHeaderFields, now: number): string {
  const at = new Date(now);
  if (fields.format === "rfc5424") {
    return `<${PRI}>1 ${at.toISOString()} ${fields.hostname} ${fields.appName} ${fields.procId} - - `;
  }
  // RFC 3164 timestamps are local time, the day padded with a space.
  const day = String(at.getDate()).padStart(2, " ");
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()]
    .map((part) => String(part).padStart(2, "0"))
    .join(":");
  return `<${PRI}>${MONTHS[at.getMonth()]} ${day} ${time} ${fields.hostname} ${fields.appName}: `;
}

/** One message framed for a TCP stream; octet counting counts bytes, not characters. */
export function frameSyslog(message: string, framing: SyslogFraming): string {
  return framing === "lf" ? `${message}\n` : `${Buffer.byteLength(message)} ${message}`;
}

/** A batch as the bytes of one socket write: one framed message per event. */
export function syslogBatch(
  batch: Batch,
  header: string,
  framing: SyslogFraming,
  payloadChars: number,
): string {
  let data = "";
  for (const id of eventIds(batch)) {
    data += frameSyslog(header + encodeToken(id, payloadChars), framing);
  }
  return data;
}
