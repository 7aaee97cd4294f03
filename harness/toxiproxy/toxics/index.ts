// Every toxic registers itself by type name when imported; adding one is a new file plus a line.
import "./bandwidth.ts";
import "./latency.ts";
import "./limit_data.ts";
import "./noop.ts";
import "./reset_peer.ts";
import "./slicer.ts";
import "./slow_close.ts";
import "./timeout.ts";
