// How the forwarder reacts to each new forwarding config, flaws included. Pure state machine:
// the forwarder feeds it parsed configs and asks it which pairs to forward.
//
//   hardened: validate (refusalReason); refuse empty, drastic or corrupt configs and keep the
//             last-known-good one in force (fail-static); raise an alert.
//   forwarder.appliesEmptyConfig: no validation; an empty config is applied, so everything is
//             filtered as unconfigured.
//   forwarder.failOpenStuck: after any config error (a corrupt config, or an empty one it
//             applied or refused), the next good config — the revert — leaves a fail-open flag
//             set: every tenant is forwarded, configured or not (docs/architecture.md §2).

import type { FlawSet } from "../core/flaws.ts";
import {
  configuredPairs,
  refusalReason,
  type ForwardingConfig,
  type ParsedConfig,
} from "../config/forwarding-config.ts";

export interface ConfigDecision {
  at: number;
  version: number | null;
  /** Whether the config passed the hardened check (whatever this forwarder then did). */
  valid: boolean;
  applied: boolean;
  failOpen: boolean;
  reason: string | null;
}

export class ConfigPolicy {
  private readonly flaws: FlawSet;
  private readonly maxRemovedShare: number;
  private inForce: ForwardingConfig | null = null;
  private pairsInForce: Set<string> | null = null;
  private errorSinceGood = false;
  /** The newest config was refused: the one in force is an older, last-known-good one. */
  private refusedSinceApplied = false;
  failOpen = false;
  readonly decisions: ConfigDecision[] = [];

  constructor(flaws: FlawSet, maxRemovedShare: number) {
    this.flaws = flaws;
    this.maxRemovedShare = maxRemovedShare;
  }

  /** Pairs forwarded now; null before any config (ingest is refused then). */
  pairs(): Set<string> | null {
    return this.pairsInForce;
  }

  get version(): number | null {
    return this.inForce?.version ?? null;
  }

  /** Whether the forwarder is running on a last-known-good config after a refusal. */
  get failStatic(): boolean {
    return this.refusedSinceApplied && !this.failOpen;
  }

  consider(parsed: ParsedConfig, at: number): ConfigDecision {
    const decision = this.decide(parsed, at);
    this.decisions.push(decision);
    return decision;
  }

  private decide(parsed: ParsedConfig, at: number): ConfigDecision {
    const lenient = this.flaws.has("forwarder.appliesEmptyConfig");
    const stuck = this.flaws.has("forwarder.failOpenStuck");
    if (!parsed.ok) {
      this.errorSinceGood = true;
      this.refusedSinceApplied = this.inForce !== null;
      return {
        at,
        version: parsed.version,
        valid: false,
        applied: false,
        failOpen: this.failOpen,
        reason: parsed.error,
      };
    }
    const refusal = refusalReason(this.inForce, parsed.config, this.maxRemovedShare);
    if (refusal !== null && !lenient) {
      this.errorSinceGood = true;
      this.refusedSinceApplied = this.inForce !== null;
      return {
        at,
        version: parsed.config.version,
        valid: false,
        applied: false,
        failOpen: this.failOpen,
        reason: refusal,
      };
    }
    if (refusal !== null) {
      // The lenient forwarder applies it, and its own error handling still notices the blank.
      this.errorSinceGood = true;
    } else if (this.errorSinceGood) {
      // A good config after an error: the fail-safe flag should clear here, and with the flaw it does not.
      if (stuck) this.failOpen = true;
      else this.failOpen = false;
      this.errorSinceGood = false;
    }
    this.refusedSinceApplied = false;
    this.inForce = parsed.config;
    this.pairsInForce = configuredPairs(parsed.config);
    return {
      at,
      version: parsed.config.version,
      valid: refusal === null,
      applied: true,
      failOpen: this.failOpen,
      reason: refusal,
    };
  }
}
