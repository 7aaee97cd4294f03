// The workload's fast encoder writes exactly what the general one would.

import { fc, test } from "@fast-check/vitest";
import { expect } from "vitest";
import {
  encodeEvent,
  encodeGeneratedEvent,
  makePayload,
  parseEventLines,
} from "../../pipeline/core/event.ts";

const name = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
const id = fc.record({
  tenant: name,
  dataset: name,
  producer: name,
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
});

test.prop([id, fc.integer({ min: 0, max: 2_000 })], { numRuns: 300, seed: 1 })(
  "encodeGeneratedEvent equals encodeEvent of the event with its made payload",
  (event, size) => {
    const line = encodeGeneratedEvent(event, size);
    expect(line).toBe(encodeEvent({ ...event, payload: makePayload(event, size) }));
    expect(parseEventLines(line, 1)[0]!.event.payload).toHaveLength(Math.max(size, 8));
  },
);
