// timeout: lets no data through and closes the connection after `timeout` ms; 0 holds it open
// until the toxic is removed. Removing it closes the connections it held.
import { registerToxic } from "../toxic.ts";

registerToxic({
  type: "timeout",
  attributes: ["timeout"],
  closesOnRemoval: true,
  start({ timeout }, stub) {
    if (timeout > 0) stub.after(timeout, () => stub.close());
    return {
      receive: (chunk) => stub.discard(chunk),
      end: () => stub.end(),
      stop: () => [],
    };
  },
});
