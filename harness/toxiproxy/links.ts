// Harness integration: one proxy per topology link, created through toxiproxy-node-client
// against either an embedded server (started here) or a Toxiproxy the user runs. Code above this
// module sees the same LinkProxies either way and never learns which server it talks to.
import { Toxiproxy, type Proxy } from "toxiproxy-node-client";
import { joinHostPort, splitHostPort } from "./address.ts";
import { DEFAULT_LISTEN } from "./requests.ts";
import { startToxiproxy, type RunningToxiproxy } from "./server.ts";

export interface TopologyLink {
  /** Also the proxy's name on the Toxiproxy server. */
  name: string;
  /** Where the proxy listens; default 127.0.0.1:0 (a free loopback port). */
  listen?: string;
  /** The address the proxy forwards to, "host:port". */
  upstream: string;
}

export interface ProxiedLink {
  name: string;
  upstream: string;
  /** The proxy's actual listen address, "host:port", with the port it got. */
  listen: string;
  /** Where clients connect to go through the proxy. */
  host: string;
  port: number;
  /** The proxy on the server, for toxics and enabling/disabling. */
  proxy: Proxy;
}

export interface LinkProxyOptions {
  /** A running Toxiproxy (or `spillway toxiproxy`) to use; default: start an embedded one. */
  toxiproxyUrl?: string;
  /** Seed for the embedded server's random rolls. */
  seed?: number;
}

export interface LinkProxies {
  /** The control plane in use, embedded or not. */
  toxiproxyUrl: string;
  client: Toxiproxy;
  links: ProxiedLink[];
  /** The link of that name; throws naming the known links. */
  link(name: string): ProxiedLink;
  /** Removes the proxies, and stops the embedded server if one was started. Idempotent. */
  close(): Promise<void>;
}

export async function openLinkProxies(
  topology: readonly TopologyLink[],
  options: LinkProxyOptions = {},
): Promise<LinkProxies> {
  checkTopology(topology);
  const embedded =
    options.toxiproxyUrl === undefined ? await startEmbedded(options.seed) : undefined;
  const toxiproxyUrl = (options.toxiproxyUrl ?? embedded?.url ?? "").replace(/\/+$/, "");
  const client = new Toxiproxy(toxiproxyUrl);
  const links: ProxiedLink[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= removeAll(links, embedded));
  try {
    await removeLeftovers(client, topology);
    for (const link of topology) links.push(await createLink(client, link, toxiproxyUrl));
  } catch (error) {
    await close();
    throw new Error(
      `creating link proxies on ${toxiproxyUrl} failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return {
    toxiproxyUrl,
    client,
    links,
    link(name) {
      const found = links.find((link) => link.name === name);
      if (found !== undefined) return found;
      const known = links.map((link) => `"${link.name}"`).join(", ");
      throw new Error(`no link named "${name}"; the links are ${known || "none"}`);
    },
    close,
  };
}

function checkTopology(topology: readonly TopologyLink[]): void {
  const seen = new Set<string>();
  for (const [index, link] of topology.entries()) {
    const where = `link ${index + 1}`;
    if (link.name === "" || link.name.includes("/")) {
      throw new Error(`${where}: name "${link.name}" must be non-empty and contain no "/"`);
    }
    if (seen.has(link.name)) throw new Error(`${where}: name "${link.name}" is used twice`);
    seen.add(link.name);
    for (const field of ["upstream", "listen"] as const) {
      const address = link[field];
      if (address === undefined && field === "listen") continue;
      try {
        splitHostPort(address ?? "");
      } catch {
        throw new Error(`${where} "${link.name}": ${field} "${address}" is not "host:port"`);
      }
    }
  }
}

async function startEmbedded(seed: number | undefined): Promise<RunningToxiproxy> {
  return startToxiproxy({ host: "127.0.0.1", port: 0, seed });
}

/** Proxies left by an earlier run that died before cleaning up would make creation fail. */
async function removeLeftovers(
  client: Toxiproxy,
  topology: readonly TopologyLink[],
): Promise<void> {
  const existing = await client.getAll();
  for (const link of topology) await existing[link.name]?.remove();
}

async function createLink(
  client: Toxiproxy,
  link: TopologyLink,
  toxiproxyUrl: string,
): Promise<ProxiedLink> {
  const proxy = await client.createProxy({
    name: link.name,
    listen: link.listen ?? DEFAULT_LISTEN,
    upstream: link.upstream,
    enabled: true,
  });
  const bound = splitHostPort(proxy.listen);
  return {
    name: link.name,
    upstream: link.upstream,
    listen: joinHostPort(bound.host, bound.port),
    host: connectableHost(bound.host, toxiproxyUrl),
    port: bound.port,
    proxy,
  };
}

/** A proxy bound to every interface is reached at the Toxiproxy server's own host. */
function connectableHost(boundHost: string, toxiproxyUrl: string): string {
  if (boundHost !== "" && boundHost !== "0.0.0.0" && boundHost !== "::") return boundHost;
  return new URL(toxiproxyUrl).hostname.replace(/^\[(.*)\]$/, "$1");
}

async function removeAll(
  links: readonly ProxiedLink[],
  embedded: RunningToxiproxy | undefined,
): Promise<void> {
  const failures: string[] = [];
  for (const link of links) {
    await link.proxy.remove().catch((error: unknown) => {
      failures.push(`${link.name}: ${(error as Error).message}`);
    });
  }
  await embedded?.close();
  if (failures.length > 0 && embedded === undefined) {
    throw new Error(`removing link proxies failed: ${failures.join("; ")}`);
  }
}
