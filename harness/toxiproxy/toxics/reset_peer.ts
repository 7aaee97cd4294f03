// reset_peer: on the first data (or the end of the stream), waits `timeout` ms and then closes
// the connection with a TCP RST; the data is dropped.
import { registerToxic } from "../toxic.ts";

registerToxic({
  type: "reset_peer",
  attributes: ["timeout"],
  start({ timeout }, stub) {
    let armed = false;
    const arm = (): void => {
      if (armed) return;
      armed = true;
      stub.after(timeout, () => stub.reset());
    };
    return {
      receive(chunk) {
        stub.discard(chunk);
        arm();
      },
      end: arm,
      stop: () => [],
    };
  },
});
