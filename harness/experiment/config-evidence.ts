// What the harness saw of the configs published during a run (docs/architecture.md §5): each
// config it read from the config service, judged by the harness itself, and for each stretch
// during which an invalid one was the newest, the ledger of the events produced meanwhile.
// config-safety judges the forwarder from this, not from its own account.

import type { SeenConfig } from "../ledger/job-record.ts";
import type { ConfigEvidence, InvalidConfigWindow } from "../invariants/types.ts";
import type { BufferSample } from "../invariants/types.ts";

/** Why the harness judges a config invalid against the last valid one, or null when it is valid. */
export function invalidBecause(
  seen: SeenConfig,
  lastValidPairs: readonly string[] | null,
  maxRemovedPairShare: number,
): string | null {
  if (seen.pairs === null) return "not a valid config";
  if (seen.pairs.length === 0) return "empty: it forwards no pair";
  if (lastValidPairs === null || lastValidPairs.length === 0) return null;
  const next = new Set(seen.pairs);
  const removed = lastValidPairs.filter((pair) => !next.has(pair)).length;
  return removed / lastValidPairs.length > maxRemovedPairShare
    ? `removes ${removed} of ${lastValidPairs.length} pairs at once`
    : null;
}

export interface ConfigEvidenceInput {
  published: readonly SeenConfig[];
  /** The forwarder picks a new config up within this long (its polling, with slack). */
  graceMs: number;
  /** The end of the last stretch (when the workload stopped, or the run ended). */
  until: number;
  maxRemovedPairShare: number;
  bufferSamples: readonly BufferSample[];
  pairsWithJob: number;
  /** The ledger of the events produced within [from, to]: expected and lost. */
  ledgerWithin: (from: number, to: number) => { expected: number; lost: number };
}

/** The configs in the order first seen, each with why the harness judges it invalid (or null). */
export function judgePublished(
  published: readonly SeenConfig[],
  maxRemovedPairShare: number,
): Array<{ seen: SeenConfig; invalid: string | null }> {
  let lastValidPairs: readonly string[] | null = null;
  return [...published]
    .sort((a, b) => a.seenAt - b.seenAt)
    .map((seen) => {
      const invalid = invalidBecause(seen, lastValidPairs, maxRemovedPairShare);
      if (invalid === null) lastValidPairs = seen.pairs;
      return { seen, invalid };
    });
}

export function configEvidence(input: ConfigEvidenceInput): ConfigEvidence {
  const judged = judgePublished(input.published, input.maxRemovedPairShare);
  const published = judged.map(({ seen }) => seen);
  const invalid: InvalidConfigWindow[] = [];
  for (const [index, { seen, invalid: reason }] of judged.entries()) {
    if (reason === null) continue;
    const from = seen.seenAt + input.graceMs;
    const to = Math.max(from, published[index + 1]?.seenAt ?? input.until);
    invalid.push({ version: seen.version, reason, from, to, ...input.ledgerWithin(from, to) });
  }
  const firstInvalidAt = invalid.length === 0 ? null : invalid[0]!.from - input.graceMs;
  let failOpen: ConfigEvidence["failOpen"] = null;
  if (firstInvalidAt !== null) {
    for (const sample of input.bufferSamples) {
      if (sample.at < firstInvalidAt) continue;
      if (failOpen === null || sample.buffers > failOpen.buffers) {
        failOpen = { buffers: sample.buffers, at: sample.at, pairsWithJob: input.pairsWithJob };
      }
    }
  }
  return { read: published.length, invalid, failOpen };
}
