// A grpcurl-style client for alphabet-service's gRPC side (alphabet.proto), on @grpc/grpc-js
// (an npm devDependency, so `npm install` brings it). Run with Node:
//   node demo/alphabet/grpc-spell.mjs [--authority alphabet.cloud] [--language de] TARGET CHARACTER
// TARGET is host:port, e.g. the demo gateway's port 80 (h2c by the preface). Prints the word, or
// the gRPC status name and message on stderr with exit status 1.
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const [, value] = args.splice(i, 2);
  return value;
};
const authority = option("authority", "alphabet.cloud");
const language = option("language", "");
const requestId = option("request-id", undefined);
const [target, character] = args;
if (!target || character === undefined) {
  console.error("usage: grpc-spell.mjs [--authority HOST] [--language de] [--request-id ID] HOST:PORT CHARACTER");
  process.exit(2);
}

const proto = fileURLToPath(new URL("alphabet.proto", import.meta.url));
const { alphabet } = grpc.loadPackageDefinition(loader.loadSync(proto));
// the authority names the route at the gateway, as a Host header does for curl
const client = new alphabet.Alphabet(target, grpc.credentials.createInsecure(), { "grpc.default_authority": authority });
const metadata = new grpc.Metadata();
if (requestId) metadata.set("x-request-id", requestId);
client.Spell({ character, language }, metadata, { deadline: Date.now() + 10_000 }, (error, reply) => {
  client.close();
  if (error) {
    console.error(`ERROR: ${grpc.status[error.code]} (${error.code}): ${error.details}`);
    process.exit(1);
  }
  console.log(reply.word);
});
