// Every proxy of a server, by name (after Toxiproxy's proxy_collection.go).
import { ApiError, proxyAlreadyExists, proxyNotFound } from "./errors.ts";
import type { LinkEnv } from "./link.ts";
import { Proxy } from "./proxy.ts";
import type { ProxySpec } from "./requests.ts";

/** A populate that stopped at a failing entry, with the proxies applied before it. */
export class PopulateError extends Error {
  readonly failure: ApiError;
  readonly applied: Proxy[];

  constructor(failure: ApiError, applied: Proxy[]) {
    super(failure.message);
    this.name = "PopulateError";
    this.failure = failure;
    this.applied = applied;
  }
}

export class ProxyCollection {
  private readonly proxies = new Map<string, Proxy>();
  private readonly env: LinkEnv;

  constructor(env: LinkEnv) {
    this.env = env;
  }

  /** Sorted by name, as Go's encoding/json orders the map Toxiproxy returns. */
  list(): Proxy[] {
    return [...this.proxies.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
  }

  get(name: string): Proxy {
    const proxy = this.proxies.get(name);
    if (proxy === undefined) throw proxyNotFound();
    return proxy;
  }

  /** Creates a proxy; nothing is stored when its listener cannot be opened. */
  async add(spec: ProxySpec): Promise<Proxy> {
    if (this.proxies.has(spec.name)) throw proxyAlreadyExists();
    const proxy = new Proxy(spec, this.env);
    if (spec.enabled) await proxy.start();
    this.proxies.set(spec.name, proxy);
    return proxy;
  }

  /**
   * Applies entries in order; an entry matching an existing proxy's name, listen and upstream
   * leaves it untouched (toxics, connections), any other replaces it. The first failure stops.
   */
  async populate(specs: readonly ProxySpec[]): Promise<Proxy[]> {
    const applied: Proxy[] = [];
    for (const spec of specs) {
      try {
        applied.push(await this.addOrReplace(spec));
      } catch (error) {
        throw new PopulateError(asApiError(error), applied);
      }
    }
    return applied;
  }

  remove(name: string): void {
    this.get(name).stop();
    this.proxies.delete(name);
  }

  /** Enables every proxy and removes every toxic; proxies are kept. */
  async reset(): Promise<void> {
    for (const proxy of this.list()) {
      await proxy.start();
      proxy.toxics.removeAll();
    }
  }

  /** Stops every proxy and waits until all their sockets are closed. */
  async shutdown(): Promise<void> {
    const proxies = [...this.proxies.values()];
    this.proxies.clear();
    for (const proxy of proxies) proxy.stop();
    await Promise.all(proxies.map((proxy) => proxy.stopped()));
  }

  private async addOrReplace(spec: ProxySpec): Promise<Proxy> {
    const existing = this.proxies.get(spec.name);
    if (existing !== undefined) {
      if (existing.matches(spec.listen, spec.upstream)) return existing;
      this.remove(spec.name);
    }
    return this.add(spec);
  }
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(String((error as Error).message), 500);
}
