// Who sends how much: Zipf-distributed tenant rates, the tenants that have jobs, and the
// per-tenant flood multipliers of the load faults.

import type { Rng } from "../../pipeline/core/seam.ts";
import { tenantName, type WorkloadOptions } from "./options.ts";

/** Most a surge or a flood may multiply traffic by. */
export const MAX_LOAD_MULTIPLIER = 1_000;

export function tenantNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => tenantName(index, count));
}

/** Each tenant's share of the traffic, by rank: proportional to 1/(rank+1)^s, summing to 1. */
export function zipfShares(count: number, exponent: number): number[] {
  const weights = Array.from({ length: count }, (_, index) => 1 / (index + 1) ** exponent);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/**
 * The tenants that have jobs, in rank order. An explicit list wins; otherwise
 * round(jobShare × tenants) of them, spread evenly over the ranks starting with the heaviest
 * (every k-th), so that heavy and light tenants both have jobs and both lack them.
 */
export function selectJobTenants(
  options: Pick<WorkloadOptions, "tenants" | "jobShare" | "jobTenants">,
): string[] {
  const names = tenantNames(options.tenants);
  if (options.jobTenants !== undefined) {
    const chosen = new Set(options.jobTenants);
    return names.filter((name) => chosen.has(name));
  }
  const count = Math.round(options.jobShare * options.tenants);
  const ranks = new Set<number>();
  for (let i = 0; i < count; i++) ranks.add(Math.floor((i * options.tenants) / count));
  return names.filter((_, rank) => ranks.has(rank));
}

export interface PlannedJob {
  tenant: string;
  dataset: string;
}

/** The jobs the harness creates so that the job tenants' traffic is expected: every dataset. */
export function plannedJobs(
  options: Pick<WorkloadOptions, "tenants" | "jobShare" | "jobTenants" | "datasets">,
): PlannedJob[] {
  return selectJobTenants(options).flatMap((tenant) =>
    options.datasets.map((dataset) => ({ tenant, dataset })),
  );
}

export function checkMultiplier(multiplier: number, what: string): void {
  if (!Number.isFinite(multiplier) || multiplier < 0 || multiplier > MAX_LOAD_MULTIPLIER) {
    throw new RangeError(
      `${what} multiplier is ${multiplier}, expected a number from 0 to ${MAX_LOAD_MULTIPLIER}`,
    );
  }
}

/**
 * Draws the tenant of each event from the Zipf shares, each scaled by its flood multiplier.
 * A draw is one Rng call and a binary search over the cumulative weights.
 */
export class TenantSampler {
  readonly names: readonly string[];
  private readonly shares: readonly number[];
  private readonly floods = new Map<number, number>();
  private readonly cumulative: Float64Array;
  private total = 0;

  constructor(count: number, exponent: number) {
    this.names = tenantNames(count);
    this.shares = zipfShares(count, exponent);
    this.cumulative = new Float64Array(count);
    this.rebuild();
  }

  /** Sum of the flooded shares: the factor by which floods scale the total rate (1 unflooded). */
  get loadFactor(): number {
    return this.total;
  }

  rankOf(tenant: string): number {
    const rank = this.names.indexOf(tenant);
    if (rank === -1) {
      throw new RangeError(
        `tenant "${tenant}" is not one of the workload's ${this.names.length} tenants (${this.names[0]}..${this.names.at(-1)})`,
      );
    }
    return rank;
  }

  setFlood(tenant: string, multiplier: number): void {
    checkMultiplier(multiplier, `flood of "${tenant}"`);
    const rank = this.rankOf(tenant);
    if (multiplier === 1) this.floods.delete(rank);
    else this.floods.set(rank, multiplier);
    this.rebuild();
  }

  clearFloods(): void {
    this.floods.clear();
    this.rebuild();
  }

  floodsByTenant(): Record<string, number> {
    const floods: Record<string, number> = {};
    for (const [rank, multiplier] of [...this.floods].sort((a, b) => a[0] - b[0])) {
      floods[this.names[rank] as string] = multiplier;
    }
    return floods;
  }

  /** Rank of the tenant of the next event; only meaningful while loadFactor > 0. */
  draw(rng: Rng): number {
    const target = rng.next() * this.total;
    let low = 0;
    let high = this.cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.cumulative[middle] as number) <= target) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private rebuild(): void {
    let running = 0;
    this.shares.forEach((share, rank) => {
      running += share * (this.floods.get(rank) ?? 1);
      this.cumulative[rank] = running;
    });
    this.total = running;
  }
}
