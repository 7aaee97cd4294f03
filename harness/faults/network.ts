// Network faults (docs/architecture.md §4): the Toxiproxy toxics on one link's proxy, and the link
// down. Parameters keep Toxiproxy's own attribute names and units, so that a Toxiproxy user reads
// them as they are. `stream` defaults to "downstream" (peer → caller, the answers), as in
// Toxiproxy; "both" puts one toxic on each direction. Healing removes the toxics, or brings
// the link back up.

import type { z } from "zod";
import { defineFault, healedBy } from "./define.ts";
import type { FaultContext, LinkControl } from "./fault.ts";
import { choice, decimal, faultParams, integer, linkName, MAX_FAULT_MS } from "./params.ts";
import { requireLinks } from "./targets.ts";

type Stream = "upstream" | "downstream";

/** Most bytes a limit_data toxic may pass, and the fastest bandwidth: generous, but bounded. */
const MAX_BYTES = 2 ** 40;
const MAX_RATE_KBPS = 100_000_000;
/** Slicer delays are in microseconds. */
const MAX_SLICER_DELAY_US = 60_000_000;

const linkParams = {
  link: linkName(),
  stream: choice(["upstream", "downstream", "both"]).default("downstream"),
  toxicity: decimal(0, 1, "probability per connection").default(1),
};

interface ToxicParams {
  link: string;
  stream: Stream | "both";
  toxicity: number;
}

/** Toxics added through each set of links: counted per run, so that a replay names them alike. */
const toxicsAdded = new WeakMap<LinkControl, number>();

/** A toxic name unique on its proxy, saying what it is: `spillway_latency_downstream_3`. */
function toxicName(links: LinkControl, type: string, stream: Stream): string {
  const count = (toxicsAdded.get(links) ?? 0) + 1;
  toxicsAdded.set(links, count);
  return `spillway_${type}_${stream}_${count}`;
}

/** Adds one toxic per stream; if one fails, those already added are removed again. */
async function injectToxic(
  context: FaultContext,
  kind: string,
  type: string,
  params: ToxicParams & Record<string, unknown>,
) {
  const links = requireLinks(context, kind);
  const { link, stream, toxicity, ...attributes } = params;
  const streams: Stream[] = stream === "both" ? ["upstream", "downstream"] : [stream];
  const added: string[] = [];
  const removeAdded = async (): Promise<void> => {
    for (const name of added) await links.removeToxic(link, name);
  };
  try {
    for (const direction of streams) {
      const name = toxicName(links, type, direction);
      await links.addToxic(link, {
        name,
        type,
        stream: direction,
        toxicity,
        attributes: attributes as Record<string, number>,
      });
      added.push(name);
    }
  } catch (error) {
    await removeAdded().catch(() => {});
    throw error;
  }
  context.note(
    `${type} on ${link} (${streams.join(" and ")}, toxicity ${toxicity}): ${JSON.stringify(attributes)}`,
  );
  return healedBy(async () => {
    await removeAdded();
    context.note(`${type} removed from ${link}`);
  });
}

/** A network fault that is one Toxiproxy toxic of `type` with these attributes. */
function toxicFault<const Name extends string, const Shape extends z.core.$ZodLooseShape>(
  name: Name,
  type: string,
  summary: string,
  attributes: Shape,
) {
  return defineFault({
    name,
    family: "network",
    summary,
    params: faultParams({ ...linkParams, ...attributes }),
    targets: (params) => ({ links: [(params as ToxicParams).link] }),
    inject: (context, params) =>
      injectToxic(context, name, type, params as ToxicParams & Record<string, unknown>),
  });
}

export const networkLatency = toxicFault(
  "network.latency",
  "latency",
  "delays every chunk by latency ± jitter ms, keeping order",
  {
    latency: integer(0, MAX_FAULT_MS, "ms"),
    jitter: integer(0, MAX_FAULT_MS, "ms").default(0),
  },
);

export const networkBandwidth = toxicFault(
  "network.bandwidth",
  "bandwidth",
  "paces each connection to rate KB/s (0 stalls it)",
  { rate: integer(0, MAX_RATE_KBPS, "KB/s, KB = 1000 bytes") },
);

export const networkSlowClose = toxicFault(
  "network.slow_close",
  "slow_close",
  "passes data but delays each close by delay ms",
  { delay: integer(0, MAX_FAULT_MS, "ms") },
);

export const networkTimeout = toxicFault(
  "network.timeout",
  "timeout",
  "passes no data and closes after timeout ms (0: holds the connection until healed)",
  { timeout: integer(0, MAX_FAULT_MS, "ms") },
);

export const networkResetPeer = toxicFault(
  "network.reset_peer",
  "reset_peer",
  "on data, waits timeout ms and resets the connection (TCP RST)",
  { timeout: integer(0, MAX_FAULT_MS, "ms").default(0) },
);

const slicerFault = toxicFault(
  "network.slicer",
  "slicer",
  "cuts data into pieces of average_size ± size_variation bytes, delay µs apart",
  {
    average_size: integer(1, MAX_BYTES, "bytes"),
    size_variation: integer(0, MAX_BYTES, "bytes").default(0),
    delay: integer(0, MAX_SLICER_DELAY_US, "µs").default(0),
  },
);

export const networkSlicer = defineFault({
  ...slicerFault,
  // Toxiproxy itself fails on a variation as large as the average, so it is refused here.
  params: slicerFault.params.superRefine((params, context) => {
    // Only once average_size itself is valid, so that one mistake gives one message.
    if (params.average_size >= 1 && params.size_variation >= params.average_size) {
      context.addIssue({
        code: "custom",
        path: ["size_variation"],
        input: params.size_variation,
        message: `expected less than average_size (${params.average_size})`,
      });
    }
  }),
});

export const networkLimitData = toxicFault(
  "network.limit_data",
  "limit_data",
  "closes each connection after it passed bytes in that direction",
  { bytes: integer(0, MAX_BYTES, "bytes") },
);

export const networkDown = defineFault({
  name: "network.down",
  family: "network",
  summary: "takes the link down: its proxy stops listening and drops live connections",
  params: faultParams({ link: linkName() }),
  targets: (params) => ({ links: [params.link] }),
  async inject(context, { link }) {
    const links = requireLinks(context, "network.down");
    await links.setEnabled(link, false);
    context.note(`link ${link} down`);
    return healedBy(async () => {
      await links.setEnabled(link, true);
      context.note(`link ${link} up`);
    });
  },
});

export const NETWORK_FAULTS = [
  networkLatency,
  networkBandwidth,
  networkSlowClose,
  networkTimeout,
  networkResetPeer,
  networkSlicer,
  networkLimitData,
  networkDown,
] as const;
