// Polls the config service for the forwarding config and reports every new version. By default
// it keeps the newest config that passes the hardened check (refusalReason); the forwarder
// plugs in its own policy, flaws included.

import type { Limits } from "../core/limits.ts";
import type { Seam } from "../core/seam.ts";
import {
  configuredPairs,
  parseForwardingConfig,
  refusalReason,
  type ForwardingConfig,
  type ParsedConfig,
} from "./forwarding-config.ts";

export type ConfigListener = (parsed: ParsedConfig) => void;

/** The doubt of a stale config (see ConfigWatcher.stale), as declared drops name it. */
export const STALE_CONFIG_DOUBT =
  "the config in force is not confirmed by a recent poll of the config service";

export class ConfigWatcher {
  private readonly seam: Seam;
  private readonly url: string;
  private readonly limits: Limits;
  private readonly who: string;
  private readonly listener: ConfigListener | undefined;
  private accepted: ForwardingConfig | null = null;
  private acceptedPairs: Set<string> | null = null;
  private lastVersion: number | null = null;
  private lastBody: string | null = null;
  /**
   * When the newest answered poll was sent; null before the first answer. The config in force
   * is known to be current as of then, not as of when the answer was read: a process paused
   * (or starved) after the request reads an answer that may be seconds old.
   */
  private confirmedAt: number | null = null;
  /** Whether the newest config seen was refused, so an older one is in force (default policy). */
  private refusing = false;
  private running = false;

  constructor(
    seam: Seam,
    configUrl: string,
    limits: Limits,
    who: string,
    listener?: ConfigListener,
  ) {
    this.seam = seam;
    this.url = `${configUrl}/config`;
    this.limits = limits;
    this.who = who;
    this.listener = listener;
  }

  /** Pairs of the config in force (default policy), or null before the first good config. */
  pairs(): Set<string> | null {
    return this.acceptedPairs;
  }

  config(): ForwardingConfig | null {
    return this.accepted;
  }

  /**
   * Whether the config in force may be out of date: no poll sent in the last two poll
   * intervals was answered, so a job added meanwhile may be unknown here.
   */
  stale(now: number): boolean {
    return this.confirmedAt === null || now - this.confirmedAt > 2 * this.limits.configPollMs;
  }

  /**
   * Why the config in force may lack a job that exists, or null: it is stale (the config service
   * is not answering, or this process was paused), or the newest config was refused and an
   * older one is kept (default policy).
   */
  doubt(now: number): string | null {
    if (this.stale(now)) return STALE_CONFIG_DOUBT;
    if (this.refusing) return "a refused config keeps an older one in force";
    return null;
  }

  /** Fetches once (so a ready component usually has a config), then polls in the background. */
  async start(): Promise<void> {
    this.running = true;
    await this.pollOnce();
    void this.loop();
  }

  stop(): void {
    this.running = false;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.seam.clock.sleep(this.limits.configPollMs);
      if (this.running) await this.pollOnce();
    }
  }

  private async pollOnce(): Promise<void> {
    let body: string;
    const askedAt = this.seam.clock.now();
    try {
      const response = await this.seam.net.request({
        method: "GET",
        url: this.url,
        timeoutMs: this.limits.bufferTimeoutMs,
      });
      if (response.status !== 200) return;
      body = response.body;
      this.confirmedAt = askedAt;
    } catch {
      return; // config service unreachable: keep what we have and try again next poll
    }
    if (body === this.lastBody) return;
    this.lastBody = body;
    const parsed = parseForwardingConfig(body);
    const version = parsed.ok ? parsed.config.version : parsed.version;
    if (version !== null && version === this.lastVersion) return;
    this.lastVersion = version;
    if (this.listener !== undefined) {
      this.listener(parsed);
      return;
    }
    if (!parsed.ok) {
      this.refusing = true;
      this.seam.log.warn("config refused", { who: this.who, error: parsed.error });
      return;
    }
    const refusal = refusalReason(this.accepted, parsed.config, this.limits.maxRemovedPairShare);
    if (refusal !== null) {
      this.refusing = true;
      this.seam.log.warn("config refused", { who: this.who, version, reason: refusal });
      return;
    }
    this.refusing = false;
    this.accepted = parsed.config;
    this.acceptedPairs = configuredPairs(parsed.config);
  }
}
