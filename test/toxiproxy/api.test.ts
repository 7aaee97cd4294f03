// The control plane over raw HTTP: every error row of docs/toxiproxy.md with its exact status and
// message, and the JSON shapes clients rely on.
import { beforeEach, describe, expect, it } from "vitest";
import { api, closedPort, embeddedToxiproxy, errorBody, tcpServer, useCleanup } from "./helpers.ts";

describe("control plane over HTTP", () => {
  const defer = useCleanup();
  let url: string;
  let upstream: string;

  beforeEach(async () => {
    url = (await embeddedToxiproxy(defer)).url;
    upstream = `127.0.0.1:${await closedPort()}`;
  });

  const call = (method: string, path: string, body?: unknown) => api(url, method, path, body);
  const createProxy = async (name: string, fields: Record<string, unknown> = {}) => {
    const response = await call("POST", "/proxies", {
      name,
      listen: "127.0.0.1:0",
      upstream,
      ...fields,
    });
    expect(response.status).toBe(201);
    return response.json() as { name: string; listen: string };
  };
  const expectError = async (
    response: Promise<{ status: number; text: string }>,
    status: number,
    message: string,
  ) => {
    const { status: actual, text } = await response;
    expect({ status: actual, text }).toEqual({ status, text: errorBody(message, status) });
  };

  describe("proxies", () => {
    it("GET /proxies answers {} when there are none", async () => {
      const response = await call("GET", "/proxies");
      expect(response.status).toBe(200);
      expect(response.text).toBe("{}");
      expect(response.contentType).toBe("application/json");
    });

    it("POST /proxies answers 201 with the proxy and its (empty) toxics", async () => {
      const response = await call("POST", "/proxies", {
        name: "a",
        listen: "127.0.0.1:0",
        upstream,
      });
      expect(response.status).toBe(201);
      expect(response.json()).toEqual({
        name: "a",
        listen: expect.stringMatching(/^127\.0\.0\.1:[1-9]\d*$/) as string,
        upstream,
        enabled: true,
        toxics: [],
      });
    });

    it("checks the name first, then the upstream", async () => {
      await expectError(call("POST", "/proxies", {}), 400, "missing required field: name");
      await expectError(
        call("POST", "/proxies", { name: "a" }),
        400,
        "missing required field: upstream",
      );
    });

    it("refuses an empty body as EOF", async () => {
      await expectError(call("POST", "/proxies", ""), 400, "bad request body: EOF");
    });

    it("refuses malformed JSON and fields of the wrong type", async () => {
      const malformed = await call("POST", "/proxies", "{nope");
      expect(malformed.status).toBe(400);
      expect(malformed.json()).toMatchObject({
        error: expect.stringMatching(/^bad request body: /),
      });
      const wrongType = await call("POST", "/proxies", { name: 7, upstream });
      expect(wrongType.status).toBe(400);
      expect(wrongType.json()).toMatchObject({
        error: expect.stringMatching(/^bad request body: .*name/),
      });
    });

    it("refuses a second proxy of the same name with 409", async () => {
      await createProxy("a");
      await expectError(
        call("POST", "/proxies", { name: "a", listen: "127.0.0.1:0", upstream }),
        409,
        "proxy already exists",
      );
    });

    it("answers 500 with the bind error when the port is taken, and stores nothing", async () => {
      const taken = await tcpServer(defer, () => {});
      await expectError(
        call("POST", "/proxies", { name: "a", listen: taken.address, upstream }),
        500,
        `listen tcp ${taken.address}: bind: address already in use`,
      );
      expect((await call("GET", "/proxies")).text).toBe("{}");
    });

    it("matches field names case-insensitively and ignores unknown fields", async () => {
      const response = await call("POST", "/proxies", {
        NAME: "a",
        Listen: "127.0.0.1:0",
        UpStream: upstream,
        Enabled: false,
        colour: "blue",
      });
      expect(response.status).toBe(201);
      expect(response.json()).toMatchObject({
        name: "a",
        upstream,
        enabled: false,
        listen: "127.0.0.1:0",
      });
    });

    it("GET, POST, PATCH and DELETE of an unknown proxy answer 404", async () => {
      for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
        await expectError(
          call(method, "/proxies/nope", method === "GET" ? undefined : {}),
          404,
          "proxy not found",
        );
      }
    });

    it("update answers 400 for a bad body", async () => {
      await createProxy("a");
      await expectError(call("PATCH", "/proxies/a", ""), 400, "bad request body: EOF");
      const wrongType = await call("POST", "/proxies/a", { enabled: "yes" });
      expect(wrongType.status).toBe(400);
    });

    it("update answers 500 on a bind failure and leaves the proxy disabled", async () => {
      await createProxy("a");
      const taken = await tcpServer(defer, () => {});
      await expectError(
        call("PATCH", "/proxies/a", { listen: taken.address }),
        500,
        `listen tcp ${taken.address}: bind: address already in use`,
      );
      expect((await call("GET", "/proxies/a")).json()).toMatchObject({
        listen: taken.address,
        enabled: false,
      });
    });

    it("update keeps fields the body leaves out, and the name cannot change", async () => {
      const created = await createProxy("a");
      const response = await call("POST", "/proxies/a", { name: "b", enabled: false });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ ...created, enabled: false, toxics: [] });
    });

    it("DELETE answers 204 with no body", async () => {
      await createProxy("a");
      const response = await call("DELETE", "/proxies/a");
      expect({ status: response.status, text: response.text }).toEqual({ status: 204, text: "" });
    });
  });

  describe("populate", () => {
    const entry = (name: string, listen = "127.0.0.1:0") => ({ name, listen, upstream });

    it("answers 201 with the proxies created", async () => {
      const response = await call("POST", "/populate", [entry("a"), entry("b")]);
      expect(response.status).toBe(201);
      const { proxies } = response.json() as { proxies: { name: string }[] };
      expect(proxies.map((proxy) => proxy.name)).toEqual(["a", "b"]);
    });

    it("answers 201 with null proxies for an empty array", async () => {
      const response = await call("POST", "/populate", []);
      expect({ status: response.status, body: response.json() }).toEqual({
        status: 201,
        body: { proxies: null },
      });
    });

    it("validates every entry before creating anything", async () => {
      const response = await call("POST", "/populate", [entry("a"), { upstream }]);
      expect(response.status).toBe(400);
      expect(response.json()).toEqual({
        error: "missing required field: name at proxy 2",
        status: 400,
        proxies: null,
      });
      expect((await call("GET", "/proxies")).text).toBe("{}");
    });

    it("names a missing upstream with the entry's position", async () => {
      const response = await call("POST", "/populate", [{ name: "a" }]);
      expect(response.json()).toMatchObject({
        error: "missing required field: upstream at proxy 1",
      });
    });

    it("stops at the first failure and reports the proxies created before it", async () => {
      const taken = await tcpServer(defer, () => {});
      const response = await call("POST", "/populate", [
        entry("a"),
        entry("b", taken.address),
        entry("c"),
      ]);
      expect(response.status).toBe(500);
      const body = response.json() as {
        error: string;
        status: number;
        proxies: { name: string }[];
      };
      expect(body.error).toBe(`listen tcp ${taken.address}: bind: address already in use`);
      expect(body.status).toBe(500);
      expect(body.proxies.map((proxy) => proxy.name)).toEqual(["a"]);
      expect(Object.keys((await call("GET", "/proxies")).json() as object)).toEqual(["a"]);
    });

    it("refuses a body that is not an array", async () => {
      const response = await call("POST", "/populate", { name: "a", upstream });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({
        error: expect.stringMatching(/^bad request body: /),
        proxies: null,
      });
    });
  });

  describe("toxics", () => {
    beforeEach(async () => {
      await createProxy("p");
    });

    const addToxic = (body: unknown) => call("POST", "/proxies/p/toxics", body);

    it("GET and POST on the toxics of an unknown proxy answer 404", async () => {
      await expectError(call("GET", "/proxies/nope/toxics"), 404, "proxy not found");
      await expectError(
        call("POST", "/proxies/nope/toxics", { type: "noop" }),
        404,
        "proxy not found",
      );
    });

    it("POST answers 200 with the toxic, listing every attribute of its type", async () => {
      const response = await addToxic({ type: "slicer", attributes: { average_size: 10 } });
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({
        attributes: { average_size: 10, size_variation: 0, delay: 0 },
        name: "slicer_downstream",
        type: "slicer",
        stream: "downstream",
        toxicity: 1,
      });
    });

    it("echoes noop's attributes as {}", async () => {
      expect((await addToxic({ type: "noop" })).json()).toMatchObject({ attributes: {} });
    });

    it("matches the stream case-insensitively and echoes it as sent", async () => {
      const response = await addToxic({ type: "latency", stream: "UpStream" });
      expect(response.json()).toMatchObject({ name: "latency_UpStream", stream: "UpStream" });
    });

    it("refuses an unknown type, including down, with 400", async () => {
      for (const type of ["poison", "down", undefined]) {
        await expectError(addToxic({ type }), 400, "invalid toxic type");
      }
    });

    it("refuses any other stream with 400", async () => {
      for (const stream of ["sideways", ""]) {
        await expectError(
          addToxic({ type: "latency", stream }),
          400,
          "stream was invalid, can be either upstream or downstream",
        );
      }
    });

    it("refuses a second toxic of the same name with 409", async () => {
      await addToxic({ type: "latency" });
      await expectError(addToxic({ type: "latency" }), 409, "toxic already exists");
      await expectError(
        addToxic({ type: "bandwidth", name: "latency_downstream" }),
        409,
        "toxic already exists",
      );
    });

    it("refuses an attribute of the wrong JSON type", async () => {
      for (const latency of ["100", 1.5, true, [1]]) {
        const response = await addToxic({ type: "latency", attributes: { latency } });
        expect(response.status).toBe(400);
        expect(response.json()).toMatchObject({
          error: expect.stringMatching(/^bad request body: .*latency/),
        });
      }
    });

    it("refuses values Toxiproxy would crash on", async () => {
      const crashers = [
        { type: "bandwidth", attributes: { rate: -1 } },
        { type: "slicer", attributes: { average_size: 0 } },
        { type: "slicer", attributes: { average_size: 10, size_variation: 10 } },
        { type: "slicer", attributes: { average_size: 10, size_variation: -1 } },
        { type: "latency", attributes: { jitter: -5 } },
      ];
      for (const body of crashers) {
        const response = await addToxic(body);
        expect(response.status, JSON.stringify(body)).toBe(400);
        expect(response.json()).toMatchObject({
          error: expect.stringMatching(/^bad request body: /),
        });
      }
      expect((await call("GET", "/proxies/p/toxics")).json()).toEqual([]);
    });

    it("GET, POST, PATCH and DELETE of a toxic answer the proxy's 404, then the toxic's", async () => {
      for (const method of ["GET", "POST", "PATCH", "DELETE"]) {
        const body = method === "GET" ? undefined : {};
        await expectError(call(method, "/proxies/nope/toxics/t", body), 404, "proxy not found");
        await expectError(call(method, "/proxies/p/toxics/t", body), 404, "toxic not found");
      }
    });

    it("update answers 400 for a bad body and leaves the toxic as it was", async () => {
      await addToxic({ type: "latency", attributes: { latency: 10 } });
      await expectError(
        call("PATCH", "/proxies/p/toxics/latency_downstream", ""),
        400,
        "bad request body: EOF",
      );
      const wrongType = await call("POST", "/proxies/p/toxics/latency_downstream", {
        attributes: { latency: "slow" },
      });
      expect(wrongType.status).toBe(400);
      const response = await call("GET", "/proxies/p/toxics/latency_downstream");
      expect(response.json()).toMatchObject({ attributes: { latency: 10, jitter: 0 } });
    });

    it("update merges attributes and ignores type, stream and name", async () => {
      await addToxic({ type: "latency", attributes: { latency: 10, jitter: 2 } });
      const response = await call("PATCH", "/proxies/p/toxics/latency_downstream", {
        type: "timeout",
        stream: "upstream",
        name: "renamed",
        attributes: { Jitter: 5 },
      });
      expect(response.json()).toEqual({
        attributes: { latency: 10, jitter: 5 },
        name: "latency_downstream",
        type: "latency",
        stream: "downstream",
        toxicity: 1,
      });
    });

    it("lists upstream toxics first, then downstream, each in the order added", async () => {
      await addToxic({ type: "noop", name: "d1" });
      await addToxic({ type: "noop", name: "u1", stream: "upstream" });
      await addToxic({ type: "noop", name: "d2" });
      const response = await call("GET", "/proxies/p/toxics");
      expect((response.json() as { name: string }[]).map((toxic) => toxic.name)).toEqual([
        "u1",
        "d1",
        "d2",
      ]);
    });

    it("DELETE answers 204 with no body", async () => {
      await addToxic({ type: "noop" });
      const response = await call("DELETE", "/proxies/p/toxics/noop_downstream");
      expect({ status: response.status, text: response.text }).toEqual({ status: 204, text: "" });
    });
  });

  describe("server-wide", () => {
    it("POST /reset answers 204, re-enables proxies and removes toxics", async () => {
      await createProxy("p", { enabled: false });
      const disabled = await call("GET", "/proxies/p");
      expect(disabled.json()).toMatchObject({ enabled: false });
      await call("PATCH", "/proxies/p", { enabled: true });
      await call("POST", "/proxies/p/toxics", { type: "noop" });
      await call("PATCH", "/proxies/p", { enabled: false });
      const response = await call("POST", "/reset");
      expect({ status: response.status, text: response.text }).toEqual({ status: 204, text: "" });
      expect((await call("GET", "/proxies/p")).json()).toMatchObject({ enabled: true, toxics: [] });
    });

    it("GET /version answers the version document", async () => {
      const response = await call("GET", "/version");
      expect(response.status).toBe(200);
      expect(response.text).toBe('{"version": "2.12.0"}\n');
    });

    it("answers a browser's User-Agent with 403 in plain text", async () => {
      const response = await api(url, "GET", "/proxies", undefined, {
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)",
      });
      expect(response.status).toBe(403);
      expect(response.text).toBe("User agent not allowed\n");
      expect(response.contentType).toMatch(/^text\/plain/);
    });

    it("answers an unknown path with a plain-text 404", async () => {
      for (const path of ["/nope", "/proxies/a/b/c/d", "/proxies/"]) {
        const response = await call("GET", path);
        expect({ status: response.status, text: response.text }).toEqual({
          status: 404,
          text: "404 page not found\n",
        });
      }
    });

    it("answers a known path with the wrong method with an empty 405", async () => {
      for (const [method, path] of [
        ["DELETE", "/proxies"],
        ["GET", "/reset"],
        ["PUT", "/proxies/a"],
        ["POST", "/version"],
      ] as const) {
        const response = await call(method, path);
        expect({ status: response.status, text: response.text }).toEqual({ status: 405, text: "" });
      }
    });
  });
});
