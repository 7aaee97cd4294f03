// slow_close: passes data unchanged but delays the end of the stream by `delay` ms.
import { registerToxic } from "../toxic.ts";

registerToxic({
  type: "slow_close",
  attributes: ["delay"],
  start({ delay }, stub) {
    return {
      receive: (chunk) => stub.forward(chunk),
      end: () => {
        stub.after(delay, () => stub.end());
      },
      stop: () => [],
    };
  },
});
