// How a service reaches a peer is not the runtime's business: a LinkProvider turns each link
// (`forwarder->buffer`) and the peer's real address into the URL the caller is given. Direct
// links hand out the real address; a fault proxy hands out a proxy in between.

export interface LinkRequest {
  /** `<service>-><peer>`, e.g. `forwarder->buffer`. */
  name: string;
  /** The peer's base URL as the harness reaches it, e.g. `http://127.0.0.1:41234`. */
  upstream: string;
}

export interface LinkProvider {
  /** Opens one link and returns the base URL the calling service must use for its peer. */
  open(link: LinkRequest): Promise<{ url: string }>;
  /** Releases every link this provider opened. */
  close(): Promise<void>;
}

/** No proxy: every service calls its peers at their own addresses. */
export function directLinks(): LinkProvider {
  return {
    open: async (link) => ({ url: link.upstream }),
    close: async () => {},
  };
}
