// limit_data: passes `bytes` bytes per connection and direction, then closes the connection.
// The count survives updates of the toxic (Toxiproxy's StatefulToxic).
import { registerToxic } from "../toxic.ts";

interface Transmitted {
  bytes: number;
}

registerToxic({
  type: "limit_data",
  attributes: ["bytes"],
  newState: (): Transmitted => ({ bytes: 0 }),
  start({ bytes }, stub, transmitted: Transmitted) {
    return {
      receive(chunk) {
        const allowed = Math.max(0, bytes - transmitted.bytes);
        if (chunk.data.length <= allowed) {
          transmitted.bytes += chunk.data.length;
          stub.forward(chunk);
        } else {
          transmitted.bytes += allowed;
          if (allowed > 0)
            stub.forward({ data: chunk.data.subarray(0, allowed), readAt: chunk.readAt });
          stub.discard({ data: chunk.data.subarray(allowed), readAt: chunk.readAt });
        }
        if (transmitted.bytes >= bytes) stub.close();
      },
      end: () => stub.end(),
      stop: () => [],
    };
  },
});
