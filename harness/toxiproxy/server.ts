// The in-process Toxiproxy-compatible server: the control plane on loopback (both loopbacks
// when the host is a loopback name) and the proxies it manages.
import type { Server } from "node:http";
import type { Clock } from "../../pipeline/core/seam.ts";
import { createBoundedServer } from "../../pipeline/host/server.ts";
import { closeServers, joinHostPort, listenOn } from "./address.ts";
import { createApiHandler } from "./api.ts";
import { BUSY_POLL_WINDOW_EXPECTED, BusyPoll, isBusyPollWindow } from "./busy-poll.ts";
import { createRng, realClock } from "./clock.ts";
import { DEFAULT_TOXIPROXY_LIMITS, type ToxiproxyLimits } from "./limits.ts";
import { PopulateError, ProxyCollection } from "./proxy-collection.ts";
import { decodePopulate } from "./requests.ts";

export interface ToxiproxyOptions {
  /** Default 127.0.0.1 (Toxiproxy's default address; loopback only). */
  host?: string;
  /** Default 8474; 0 picks a free port. */
  port?: number;
  /** Seeds toxicity rolls, jitter and slice sizes, so a run can be repeated. */
  seed?: number;
  /** Proxies to create before the API listens, as a /populate body (a `-config` file). */
  populate?: unknown;
  limits?: Partial<ToxiproxyLimits>;
  clock?: Clock;
  /** Keep polling sockets this long after each read (busy-poll.ts); default 0: never. */
  busyPollUs?: number;
}

export interface RunningToxiproxy {
  /** The control plane's base URL, e.g. `http://127.0.0.1:8474`. */
  url: string;
  host: string;
  port: number;
  /** Stops every proxy and the API; resolves once every socket is closed. */
  close(): Promise<void>;
}

export async function startToxiproxy(options: ToxiproxyOptions = {}): Promise<RunningToxiproxy> {
  const limits = { ...DEFAULT_TOXIPROXY_LIMITS, ...options.limits };
  const busyPollUs = options.busyPollUs ?? 0;
  if (!isBusyPollWindow(busyPollUs)) {
    throw new Error(
      `toxiproxy could not start: busyPollUs ${busyPollUs}: expected ${BUSY_POLL_WINDOW_EXPECTED}`,
    );
  }
  const collection = new ProxyCollection({
    clock: options.clock ?? realClock,
    rng: createRng(options.seed),
    limits,
    busyPoll: new BusyPoll(busyPollUs),
  });
  try {
    if (options.populate !== undefined) await collection.populate(decodePopulate(options.populate));
    const handler = createApiHandler(collection, limits);
    const address = joinHostPort(options.host ?? "127.0.0.1", options.port ?? 8474);
    const bound = await listenOn(address, () =>
      createBoundedServer(limits.requestTimeoutMs, handler),
    );
    const host = bound.address.slice(0, bound.address.lastIndexOf(":"));
    let closing: Promise<void> | undefined;
    return {
      url: `http://${bound.address}`,
      host: host.replace(/^\[(.*)\]$/, "$1"),
      port: bound.port,
      close: () => (closing ??= closeAll(collection, bound.servers)),
    };
  } catch (error) {
    await collection.shutdown();
    throw describeStartFailure(error);
  }
}

async function closeAll(collection: ProxyCollection, servers: readonly Server[]): Promise<void> {
  const closed = closeServers(servers);
  for (const server of servers) server.closeAllConnections();
  await Promise.all([closed, collection.shutdown()]);
}

function describeStartFailure(error: unknown): Error {
  if (error instanceof PopulateError) {
    const done = error.applied.map((proxy) => proxy.name).join(", ") || "none";
    return new Error(`populating proxies failed: ${error.message} (created before it: ${done})`);
  }
  return new Error(`toxiproxy could not start: ${(error as Error).message}`);
}
