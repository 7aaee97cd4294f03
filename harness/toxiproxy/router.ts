// A tiny path router with gorilla/mux's answers: a path no route knows is a 404, a known path
// with a method it does not take is a 405. `{name}` matches one non-empty path segment.

export type RouteParams = Readonly<Record<string, string>>;

export type RouteMatch<H> =
  | { kind: "found"; handler: H; params: RouteParams }
  | { kind: "wrong-method" }
  | { kind: "no-route" };

interface Route<H> {
  methods: readonly string[];
  segments: readonly string[];
  handler: H;
}

export class Router<H> {
  private readonly routes: Route<H>[] = [];

  add(methods: readonly string[], pattern: string, handler: H): this {
    this.routes.push({ methods, segments: pattern.split("/").slice(1), handler });
    return this;
  }

  /** `path` is already percent-decoded, without the query string. */
  match(method: string, path: string): RouteMatch<H> {
    const segments = path.split("/").slice(1);
    let pathKnown = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (params === undefined) continue;
      if (route.methods.includes(method)) return { kind: "found", handler: route.handler, params };
      pathKnown = true;
    }
    return pathKnown ? { kind: "wrong-method" } : { kind: "no-route" };
  }
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): RouteParams | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, expected] of pattern.entries()) {
    const segment = actual[index] as string;
    if (expected.startsWith("{") && expected.endsWith("}")) {
      if (segment === "") return undefined;
      params[expected.slice(1, -1)] = segment;
    } else if (expected !== segment) {
      return undefined;
    }
  }
  return params;
}
