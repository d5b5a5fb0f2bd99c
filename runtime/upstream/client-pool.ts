// A ConnectionPool over a plain UpstreamClient, with no limits of its own: for tests that record
// upstream requests in memory, where there are no connections to count.
import type { ConnectionPool } from "./pool-types.ts";
import type { UpstreamClient } from "../platform/types.ts";

export function poolOverClient(client: UpstreamClient): ConnectionPool {
  let sent = 0;
  return {
    send(_address, request) {
      sent++;
      return client.send(request);
    },
    setLimits() {},
    stats: () => ({ connections: 0, active: 0, idle: 0, pending: 0, opened: sent, overflows: 0 }),
    close() {},
  };
}
