// The workload's knobs, each with a default and an explicit bound (docs/architecture.md §9: a limit
// on everything). Options are validated once, here, at the edge; the rest of the workload trusts
// them. The schema is exported so that the experiment schema can embed it.

import { z } from "zod";
import { DEFAULT_LIMITS } from "../../pipeline/core/limits.ts";
import { NAME_PATTERN } from "../../pipeline/core/event.ts";

/** Largest batch body the forwarder reads by default; a batch must fit in it. */
const MAX_BATCH_BODY_BYTES = DEFAULT_LIMITS.maxBodyBytes;
/** Upper bound on the bytes one encoded event adds to a batch besides its payload. */
const EVENT_OVERHEAD_BYTES = 3 * 64 + 80;

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const name = z.string().regex(NAME_PATTERN, "expected 1-64 characters of [A-Za-z0-9_.-]");

export const workloadOptionsSchema = z
  .strictObject({
    /** Number of tenants, named t000, t001... by rank: t000 sends the most. */
    tenants: int(1, 10_000).default(20),
    /** Zipf exponent s: tenant i's share of the traffic is proportional to 1/(i+1)^s. */
    zipfExponent: z.number().min(0).max(5).default(1),
    /** Share of the tenants that have jobs, spread evenly over the ranks (see jobTenants). */
    jobShare: z.number().min(0).max(1).default(0.5),
    /** An explicit list of tenants with jobs; replaces jobShare. */
    jobTenants: z.array(name).max(10_000).optional(),
    datasets: z.array(name).min(1).max(64).default(["http_requests", "firewall_events"]),
    /** Edge producers, named edge-0, edge-1...; each batch comes from one producer. */
    producers: int(1, 1_000).default(4),
    /** Total target rate, before surge and floods. */
    eventsPerSecond: z.number().positive().max(10_000_000).default(1_000),
    /** Most events in one batch. */
    batchSize: int(1, DEFAULT_LIMITS.maxEventsPerBatch).default(500),
    /** The pacing tick: events due are generated and sent every this often. */
    flushIntervalMs: int(1, 60_000).default(100),
    /** Most time's worth of events saved up, beyond one tick, while sending is held back. */
    maxBurstMs: int(1, 60_000).default(1_000),
    payloadBytes: int(8, 65_536).default(64),
    /** Most batches in flight at once (including those waiting to retry). */
    concurrency: int(1, 1_024).default(8),
    /** Attempts per batch, the first included. */
    maxAttempts: int(1, 100).default(5),
    requestTimeoutMs: int(1, 600_000).default(5_000),
    /** Jittered exponential backoff after a transport failure or a 5xx. */
    retryBaseMs: int(1, 60_000).default(DEFAULT_LIMITS.retryBaseMs),
    retryMaxMs: int(1, 600_000).default(DEFAULT_LIMITS.retryMaxMs),
    /** Cap on the delay a 429/503 may ask for. */
    maxRetryAfterMs: int(1, 600_000).default(10_000),
    /** Production stops after this many events in all. */
    maxEvents: int(1, Number.MAX_SAFE_INTEGER).default(100_000_000),
    /**
     * A production-time run of a stream spans less than this: the grain at which the ledger
     * knows when an event was produced (a run straddling a job change is indeterminate).
     */
    productionRunMs: int(1, 3_600_000).default(100),
    /** Width of one bucket of the timeline of counts. */
    timelineBucketMs: int(1, 3_600_000).default(1_000),
    /** How long stop() waits for batches in flight before recording them as unknown. */
    stopTimeoutMs: int(0, 600_000).default(10_000),
  })
  .superRefine((options, context) => {
    const batchBytes = options.batchSize * (options.payloadBytes + EVENT_OVERHEAD_BYTES);
    if (batchBytes > MAX_BATCH_BODY_BYTES) {
      context.addIssue({
        code: "custom",
        path: ["batchSize"],
        input: options.batchSize,
        message: `a batch of ${options.batchSize} events of ${options.payloadBytes} payload bytes may take ${batchBytes} bytes, over the forwarder's ${MAX_BATCH_BODY_BYTES}; expected a smaller batchSize or payloadBytes`,
      });
    }
    if (options.retryMaxMs < options.retryBaseMs) {
      context.addIssue({
        code: "custom",
        path: ["retryMaxMs"],
        input: options.retryMaxMs,
        message: `expected at least retryBaseMs (${options.retryBaseMs})`,
      });
    }
    const known = new Set(
      Array.from({ length: options.tenants }, (_, i) => tenantName(i, options.tenants)),
    );
    options.jobTenants?.forEach((tenant, index) => {
      if (!known.has(tenant)) {
        context.addIssue({
          code: "custom",
          path: ["jobTenants", index],
          input: tenant,
          message: `expected one of the workload's tenants (${tenantName(0, options.tenants)}..${tenantName(options.tenants - 1, options.tenants)})`,
        });
      }
    });
  });

export type WorkloadOptions = z.output<typeof workloadOptionsSchema>;
export type WorkloadOptionsInput = z.input<typeof workloadOptionsSchema>;

/** Tenant of rank `index` among `count`: t000, t001... (wider when there are over 1000). */
export function tenantName(index: number, count: number): string {
  const width = Math.max(3, String(count - 1).length);
  return `t${String(index).padStart(width, "0")}`;
}

export function producerName(index: number): string {
  return `edge-${index}`;
}

export class WorkloadOptionsError extends Error {
  constructor(problems: string[]) {
    super(`invalid workload options:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "WorkloadOptionsError";
  }
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** Fills in defaults and checks every bound; throws WorkloadOptionsError naming each problem. */
export function resolveWorkloadOptions(input: unknown = {}, where = "workload"): WorkloadOptions {
  const result = workloadOptionsSchema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new WorkloadOptionsError(
    result.error.issues.map((issue) => {
      const path = [where, ...issue.path.map(String)].join(".");
      if (issue.code === "unrecognized_keys") {
        const known = Object.keys(workloadOptionsSchema.shape).join(", ");
        const names = issue.keys.map((key) => JSON.stringify(key)).join(", ");
        return `${path}: unknown option ${names}; expected one of: ${known}`;
      }
      const value = "input" in issue ? ` is ${describeValue(issue.input)}:` : ":";
      return `${path}${value} ${issue.message}`;
    }),
  );
}
