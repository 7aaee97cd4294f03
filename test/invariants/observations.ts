// Hand-built observations for the invariant tests: a healthy run by default (everything
// delivered, buffer within bounds, one valid config, recovered quickly), changed per test.

import {
  CATEGORIES,
  zeroCounts,
  type Counts,
  type LedgerReport,
} from "../../harness/ledger/ledger.ts";
import type { BufferSample, Observations } from "../../harness/invariants/types.ts";

/** The run started at 1,000,000 ms; tests give times as offsets from it. */
export const STARTED_AT = 1_000_000;
export const at = (offsetMs: number): number => STARTED_AT + offsetMs;

/** A ledger report from counts per tenant; totals are their sums. */
export function ledgerOf(
  tenants: Record<string, Partial<Counts>>,
  samples: Partial<Omit<LedgerReport, "totals" | "tenants">> = {},
): LedgerReport {
  const totals = zeroCounts();
  const full: Record<string, Counts> = {};
  for (const [tenant, partial] of Object.entries(tenants)) {
    const counts = { ...zeroCounts(), ...partial };
    full[tenant] = counts;
    for (const category of CATEGORIES) totals[category] += counts[category];
  }
  return {
    totals,
    tenants: full,
    lostSamples: [],
    misdeliveredSamples: [],
    deliveredWithoutJobSamples: [],
    ...samples,
  };
}

export function sample(offsetMs: number, fields: Partial<BufferSample> = {}): BufferSample {
  return {
    at: at(offsetMs),
    bytes: 0,
    buffers: 0,
    highWaterBytes: 0,
    highWaterBytesAt: at(0),
    highWaterBuffers: 0,
    highWaterBuffersAt: at(0),
    ...fields,
  };
}

export const MiB = 1024 * 1024;

export function observations(overrides: Partial<Observations> = {}): Observations {
  return {
    ledger: ledgerOf({
      a: { produced: 1_000, expected: 1_000, delivered: 1_000 },
      b: { produced: 500, expected: 500, delivered: 490, declared: 10 },
    }),
    startedAt: STARTED_AT,
    drained: true,
    unreadableDrops: [],
    buffer: {
      service: "buffer",
      samples: [
        sample(1_000, {
          bytes: 2 * MiB,
          buffers: 4,
          highWaterBytes: 3 * MiB,
          highWaterBytesAt: at(800),
          highWaterBuffers: 4,
          highWaterBuffersAt: at(500),
          highWaterTenant: { tenant: "a", bytes: 2 * MiB, at: at(700) },
        }),
        sample(2_000, {
          bytes: 0,
          buffers: 4,
          highWaterBytes: 3 * MiB,
          highWaterBytesAt: at(800),
          highWaterBuffers: 4,
          highWaterBuffersAt: at(500),
          highWaterTenant: { tenant: "a", bytes: 2 * MiB, at: at(700) },
        }),
      ],
      bounds: {
        maxBufferBytes: 64 * MiB,
        maxTenantBytes: 16 * MiB,
        maxBuffers: 100,
        maxMemoryMb: 256,
      },
    },
    memoryExceeded: [],
    configSeen: { read: 1, invalid: [], failOpen: null },
    configDecisions: [
      { at: at(0), version: 1, valid: true, applied: true, failOpen: false, reason: null },
    ],
    recovery: { lastHealAt: at(10_000), recoveredAt: at(12_500), boundMs: 30_000 },
    ...overrides,
  };
}

/** The default observations with part of the buffer's replaced. */
export function withBuffer(buffer: Partial<Observations["buffer"]>): Observations {
  const base = observations();
  return { ...base, buffer: { ...base.buffer, ...buffer } };
}

/** The default observations with part of the recovery's replaced. */
export function withRecovery(recovery: Partial<Observations["recovery"]>): Observations {
  const base = observations();
  return { ...base, recovery: { ...base.recovery, ...recovery } };
}
