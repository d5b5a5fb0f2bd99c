// A real gRPC server and client (@grpc/grpc-js) for the end-to-end tests, run with Node so they are
// the same whichever runtime the proxy under test uses. The service dm.Echo has one method of each
// kind; messages are JSON (custom serializers, no .proto needed). One line per event on stdout.
//   node grpc-peer.mjs server NAME          "listening <port>" (NAME "down": every call UNAVAILABLE, trailers-only)
//   node grpc-peer.mjs client HOST:PORT AUTHORITY CASE...   one "CASE <json>" line per case
// Cases: unary, notfound, server-stream, client-stream, bidi, route-v2 (metadata x-route: v2).
// A unary call with text "hang" is never answered (for deadlines).
import * as grpc from "@grpc/grpc-js";

const json = { serialize: (v) => Buffer.from(JSON.stringify(v)), deserialize: (b) => JSON.parse(b.toString()) };
const method = (name, requestStream, responseStream) => ({
  path: `/dm.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: json.serialize,
  requestDeserialize: json.deserialize,
  responseSerialize: json.serialize,
  responseDeserialize: json.deserialize,
});
const service = {
  Unary: method("Unary", false, false),
  ServerStream: method("ServerStream", false, true),
  ClientStream: method("ClientStream", true, false),
  Bidi: method("Bidi", true, true),
};

const [mode, ...args] = process.argv.slice(2);

/** what the server saw of the call's metadata, as plain values (-bin as hex) */
function seen(metadata) {
  const out = {};
  for (const [key, values] of Object.entries(metadata.getMap())) out[key] = Buffer.isBuffer(values) ? `hex:${values.toString("hex")}` : String(values);
  return out;
}

if (mode === "server") {
  const name = args[0];
  const server = new grpc.Server();
  server.addService(service, {
    Unary(call, callback) {
      if (name === "down") return callback({ code: grpc.status.UNAVAILABLE, details: "down" });
      if (call.request.text === "hang") return;
      const initial = new grpc.Metadata();
      initial.set("x-served-by", name);
      call.sendMetadata(initial);
      const trailing = new grpc.Metadata();
      trailing.set("x-trailer-bin", Buffer.from([0, 1, 2, 255]));
      trailing.set("x-trailer", "late");
      if (call.request.text === "notfound") return callback({ code: grpc.status.NOT_FOUND, details: "no such thing: naïve 100%", metadata: trailing });
      callback(null, { name, text: call.request.text, metadata: seen(call.metadata) }, trailing);
    },
    ServerStream(call) {
      for (let i = 0; i < call.request.count; i++) call.write({ name, i });
      call.end();
    },
    ClientStream(call, callback) {
      let count = 0;
      let sum = 0;
      call.on("data", (m) => { count++; sum += m.n; });
      call.on("end", () => callback(null, { name, count, sum }));
    },
    Bidi(call) {
      // answers each message as it comes: the client sends the next only after this reply, so a
      // proxy that buffered either direction would stall the call
      call.on("data", (m) => call.write({ name, echo: m.n }));
      call.on("end", () => call.end());
    },
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) throw error;
    console.log(`listening ${port}`);
  });
} else if (mode === "client") {
  const [target, authority, ...cases] = args;
  const Client = grpc.makeGenericClientConstructor(service, "Echo");
  const client = new Client(target, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
  const deadline = () => Date.now() + 10_000;
  const report = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
  const outcome = (error) => ({ code: error.code, details: error.details, trailer: error.metadata?.get("x-trailer")[0], trailerBin: error.metadata?.get("x-trailer-bin")[0]?.toString("hex"), flags: error.metadata?.get("x-dietmesh-response-flags")[0] });

  const unary = (metadata, text) =>
    new Promise((resolve) => {
      let initial;
      // the callback runs before the "status" event: answer once both have come
      let result;
      const call = client.Unary({ text }, metadata, { deadline: deadline() }, (error, reply) => (result = error ? { error: outcome(error) } : { reply }));
      let attempts;
      call.on("metadata", (m) => {
        initial = m.get("x-served-by")[0];
        attempts = m.get("x-dietmesh-attempts")[0];
      });
      call.on("status", (s) => setImmediate(() => resolve(result.error ? result : { ...result, initial, attempts, trailer: s.metadata.get("x-trailer")[0], trailerBin: s.metadata.get("x-trailer-bin")[0]?.toString("hex") })));
    });

  const run = {
    async unary() {
      const metadata = new grpc.Metadata();
      metadata.set("x-hello", "world");
      metadata.set("x-token-bin", Buffer.from([222, 173, 190, 239]));
      return unary(metadata, "hi");
    },
    notfound: () => unary(new grpc.Metadata(), "notfound"),
    "route-v2": () => {
      const metadata = new grpc.Metadata();
      metadata.set("x-route", "v2");
      return unary(metadata, "which");
    },
    "server-stream": () =>
      new Promise((resolve) => {
        const got = [];
        const call = client.ServerStream({ count: 5 }, { deadline: deadline() });
        call.on("data", (m) => got.push(m.i));
        call.on("error", (error) => resolve({ error: outcome(error) }));
        call.on("end", () => resolve({ got }));
      }),
    "client-stream": () =>
      new Promise((resolve) => {
        const call = client.ClientStream({ deadline: deadline() }, (error, reply) => resolve(error ? { error: outcome(error) } : { reply }));
        for (let n = 1; n <= 10; n++) call.write({ n });
        call.end();
      }),
    bidi: () =>
      new Promise((resolve) => {
        const got = [];
        const call = client.Bidi({ deadline: deadline() });
        let n = 1;
        call.write({ n });
        call.on("data", (m) => {
          got.push(m.echo);
          if (n < 5) call.write({ n: ++n });
          else call.end();
        });
        call.on("error", (error) => resolve({ error: outcome(error) }));
        call.on("end", () => resolve({ got }));
      }),
  };
  for (const name of cases) report(name, await run[name]());
  client.close();
}
