// An event's identity inside a message that third-party software carries (docs/targets.md,
// "Identity"): relays rewrite syslog headers, wrap lines in JSON, prepend timestamps and may cut
// a message short, so the identity travels inside the message body as one token that a recorder
// finds wherever it ended up:
//
//   spillway1 t=<tenant> d=<dataset> p=<producer> s=<seq> n=<payload length> <payload>
//
// The payload is the one the reference pipeline's events carry (pipeline/core/event.ts): the
// identity's checksum followed by padding, `n` characters in all. A token whose checksum does not
// match its identity, or whose payload is shorter than `n` (a relay truncated the message), is
// corrupt: counted as unexpected, never as delivered.

import { identityChecksum, makePayload, type EventId } from "../../pipeline/core/event.ts";

export const TOKEN_VERSION = "spillway1";

/** Shortest payload a token carries: its 8-hex-digit checksum. */
export const PAYLOAD_CHARS_MIN = 8;

/** The token of one event with a payload of `payloadChars` characters (at least 8). */
export function encodeToken(id: EventId, payloadChars: number): string {
  if (!Number.isInteger(payloadChars) || payloadChars < PAYLOAD_CHARS_MIN) {
    throw new RangeError(
      `payloadChars is ${payloadChars}, expected an integer of at least ${PAYLOAD_CHARS_MIN}`,
    );
  }
  return `${TOKEN_VERSION} t=${id.tenant} d=${id.dataset} p=${id.producer} s=${id.seq} n=${payloadChars} ${makePayload(id, payloadChars)}`;
}

// Names as pipeline/core/event.ts NAME_PATTERN allows them; the payload's padding is `x`.
const TOKEN_PATTERN =
  /spillway1 t=([A-Za-z0-9_.-]{1,64}) d=([A-Za-z0-9_.-]{1,64}) p=([A-Za-z0-9_.-]{1,64}) s=(\d{1,16}) n=(\d{1,9}) ([0-9a-f]{0,8})(x*)/g;

export interface ScannedEvents {
  /** Events whose token is whole: checksum right, payload as long as it says. */
  events: EventId[];
  /** Tokens found but cut short or not matching their identity. */
  corrupt: EventId[];
}

/** Every token in `text` (one message, a line, a JSON body...), whole or corrupt. */
export function scanTokens(text: string, into: ScannedEvents = { events: [], corrupt: [] }) {
  TOKEN_PATTERN.lastIndex = 0;
  for (let match = TOKEN_PATTERN.exec(text); match !== null; match = TOKEN_PATTERN.exec(text)) {
    const id: EventId = {
      tenant: match[1]!,
      dataset: match[2]!,
      producer: match[3]!,
      seq: Number(match[4]),
    };
    const length = Number(match[5]);
    const checksum = match[6]!;
    const padding = match[7]!.length;
    const whole =
      Number.isSafeInteger(id.seq) &&
      checksum === identityChecksum(id) &&
      (length <= PAYLOAD_CHARS_MIN ? padding === 0 : padding === length - PAYLOAD_CHARS_MIN);
    (whole ? into.events : into.corrupt).push(id);
  }
  return into;
}
