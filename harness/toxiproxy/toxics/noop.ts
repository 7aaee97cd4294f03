// noop: passes everything through. Useful to check a client's toxic handling.
import { passThrough, registerToxic } from "../toxic.ts";

registerToxic({
  type: "noop",
  attributes: [],
  start: (_attributes, stub) => passThrough(stub),
});
