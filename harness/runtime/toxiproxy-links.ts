// Links through a fault proxy: every link a runtime opens gets its own Toxiproxy proxy on a free
// loopback port, driven with toxiproxy-node-client, so that network faults (harness/faults) can
// add toxics to it or take it down. Without a URL the embedded Toxiproxy-compatible server
// (harness/toxiproxy) is started on first use and stopped on close; with one, the user's
// Toxiproxy is used and left running. A service restarted on its old port keeps its proxies.

import { Toxiproxy, ToxiproxyError, type Proxy, type ToxicType } from "toxiproxy-node-client";
import type { LinkControl } from "../faults/fault.ts";
import { startToxiproxy, type RunningToxiproxy } from "../toxiproxy/server.ts";
import type { LinkProvider, LinkRequest } from "./links.ts";

export interface ToxiproxyLinksOptions {
  /** A running Toxiproxy (or `spillway toxiproxy`), e.g. `http://127.0.0.1:8474`. */
  url?: string;
  /** Seeds the embedded server's toxicity rolls, jitter and slice sizes. */
  seed?: number;
  /** Where each proxy listens (default a free loopback port, `127.0.0.1:0`). */
  listen?: string;
  /** The URL callers use for a proxy's bound listen address (default `http://<listen>`). */
  advertise?: (listen: string) => string;
}

export interface ToxiproxyLinks extends LinkProvider, LinkControl {
  /** The URL the calling service was given for an open link: its proxy's listen address. */
  proxyUrl(link: string): string;
  /** The Toxiproxy control plane in use; undefined until the embedded one has started. */
  controlUrl(): string | undefined;
}

/** Where every proxy listens: a free port on loopback (docs/architecture.md §3, process runtime). */
const PROXY_LISTEN = "127.0.0.1:0";

interface Control {
  client: Toxiproxy;
  url: string;
  embedded: RunningToxiproxy | undefined;
}

/** The HTTP status of a failed toxiproxy-node-client request (its message is all it keeps). */
function failedStatus(error: unknown): number | undefined {
  if (!(error instanceof ToxiproxyError)) return undefined;
  const match = /status code (\d{3})/.exec(error.message);
  return match === null ? undefined : Number(match[1]);
}

/** `host:port` of a base URL, as Toxiproxy wants an upstream. */
function hostPort(upstream: string): string {
  const url = new URL(upstream);
  if (url.port === "") throw new Error(`link upstream "${upstream}" has no port`);
  return url.host;
}

class ToxiproxyLinkSet implements ToxiproxyLinks {
  private readonly options: ToxiproxyLinksOptions;
  private control: Promise<Control> | undefined;
  private readonly proxies = new Map<string, Proxy>();
  private readonly opening = new Set<Promise<unknown>>();
  /** Links whose proxy is being created. */
  private readonly pending = new Set<string>();
  private closing: Promise<void> | undefined;
  private startedUrl: string | undefined;

  constructor(options: ToxiproxyLinksOptions) {
    this.options = options;
  }

  controlUrl(): string | undefined {
    return this.options.url?.replace(/\/+$/, "") ?? this.startedUrl;
  }

  names(): string[] {
    return [...this.proxies.keys()];
  }

  proxyUrl(link: string): string {
    const { listen } = this.proxy(link);
    return this.options.advertise?.(listen) ?? `http://${listen}`;
  }

  open(link: LinkRequest): Promise<{ url: string }> {
    if (this.closing !== undefined)
      return Promise.reject(new Error(`cannot open link "${link.name}": the links are closed`));
    if (this.proxies.has(link.name) || this.pending.has(link.name))
      return Promise.reject(new Error(`link "${link.name}" is already open`));
    this.pending.add(link.name);
    const opened = this.create(link).finally(() => this.pending.delete(link.name));
    this.opening.add(opened);
    void opened.catch(() => {}).finally(() => this.opening.delete(opened));
    return opened;
  }

  private async create(link: LinkRequest): Promise<{ url: string }> {
    const { client, url } = await this.connect();
    const body = {
      name: link.name,
      listen: this.options.listen ?? PROXY_LISTEN,
      upstream: hostPort(link.upstream),
    };
    let proxy: Proxy;
    try {
      proxy = await client.createProxy(body).catch(async (error: unknown) => {
        // A proxy of that name left behind by a run that died before closing its links.
        if (failedStatus(error) !== 409) throw error;
        await (await client.get(link.name)).remove();
        return client.createProxy(body);
      });
    } catch (error) {
      throw new Error(
        `creating the proxy of link "${link.name}" (to ${body.upstream}) on ${url} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.proxies.set(link.name, proxy);
    return { url: this.proxyUrl(link.name) };
  }

  private connect(): Promise<Control> {
    this.control ??= this.startControl();
    return this.control;
  }

  private async startControl(): Promise<Control> {
    const given = this.options.url?.replace(/\/+$/, "");
    if (given !== undefined)
      return { client: new Toxiproxy(given), url: given, embedded: undefined };
    const embedded = await startToxiproxy({ host: "127.0.0.1", port: 0, seed: this.options.seed });
    this.startedUrl = embedded.url;
    return { client: new Toxiproxy(embedded.url), url: embedded.url, embedded };
  }

  private proxy(link: string): Proxy {
    const proxy = this.proxies.get(link);
    if (proxy !== undefined) return proxy;
    const known = this.names().map((name) => `"${name}"`);
    throw new Error(
      `link "${link}" has no fault proxy; the proxied links are ${known.join(", ") || "none"}`,
    );
  }

  async addToxic(link: string, toxic: Parameters<LinkControl["addToxic"]>[1]): Promise<void> {
    const proxy = this.proxy(link);
    try {
      await proxy.addToxic({
        name: toxic.name,
        type: toxic.type as ToxicType,
        stream: toxic.stream,
        toxicity: toxic.toxicity ?? 1,
        attributes: toxic.attributes,
      });
    } catch (error) {
      throw this.failure(`adding ${toxic.type} toxic "${toxic.name}" to link "${link}"`, error);
    }
  }

  /** Removes the toxic; one that is already gone is not an error, so that heals can repeat. */
  async removeToxic(link: string, name: string): Promise<void> {
    const proxy = this.proxy(link);
    try {
      const toxic = await proxy.getToxic(name);
      await toxic.remove();
    } catch (error) {
      if (failedStatus(error) === 404) return;
      throw this.failure(`removing toxic "${name}" from link "${link}"`, error);
    }
  }

  async setEnabled(link: string, enabled: boolean): Promise<void> {
    const proxy = this.proxy(link);
    try {
      // The bound listen address, not :0, so that the link comes back on the port its caller has.
      const updated = await proxy.update({
        enabled,
        listen: proxy.listen,
        upstream: proxy.upstream,
      });
      this.proxies.set(link, updated);
    } catch (error) {
      throw this.failure(`${enabled ? "enabling" : "disabling"} link "${link}"`, error);
    }
  }

  private failure(action: string, error: unknown): Error {
    const where = this.controlUrl() ?? "the embedded Toxiproxy";
    return new Error(`${action} on ${where} failed: ${(error as Error).message}`, { cause: error });
  }

  close(): Promise<void> {
    this.closing ??= this.release();
    return this.closing;
  }

  private async release(): Promise<void> {
    await Promise.allSettled([...this.opening]);
    const control = await this.control?.catch(() => undefined);
    if (control === undefined) return;
    if (control.embedded !== undefined) {
      // Stopping the embedded server closes every proxy and connection it holds.
      this.proxies.clear();
      await control.embedded.close();
      return;
    }
    const failures: string[] = [];
    for (const [name, proxy] of this.proxies) {
      await proxy.remove().catch((error: unknown) => {
        if (failedStatus(error) !== 404) failures.push(`${name}: ${(error as Error).message}`);
      });
    }
    this.proxies.clear();
    if (failures.length > 0) {
      throw new Error(`removing link proxies from ${control.url} failed: ${failures.join("; ")}`);
    }
  }
}

/**
 * A LinkProvider putting a Toxiproxy proxy on every link, which is also the LinkControl network
 * faults act through: `runtime.start(topology, { links })`, then `{ links }` in the FaultContext.
 */
export function toxiproxyLinks(options: ToxiproxyLinksOptions = {}): ToxiproxyLinks {
  return new ToxiproxyLinkSet(options);
}
