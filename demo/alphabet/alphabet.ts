// The alphabet service of the seed's spelling demo: GET /api/alphabet/{c} answers, as text/plain,
// the spelling-alphabet word for one character — the NATO alphabet, or DIN 5009 when the caller's
// preferred language (Accept-Language) is German. The demo runs it four times: as alphabet-service
// and as a-, b- and c-service (like the original, where all four ran one image).
// Usage: alphabet.ts --port N [--host 127.0.0.1] [--name alphabet-service] [--delay-ms N] [--grpc]
// (--delay-ms answers slowly, to show the seed's 1 s timeouts at work; --grpc also answers
// alphabet.Alphabet/Spell over h2c on the same port: alphabet-grpc.ts)
import { platform } from "../../runtime/platform/index.ts";
import { listenBoth } from "./alphabet-grpc.ts";

function flag(name: string, fallback: string): string {
  const args = platform.args();
  const i = args.indexOf(`--${name}`);
  return i !== -1 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** the ICAO/NATO spelling alphabet, with its official spellings Alfa and Juliett */
const nato: Record<string, string> = table([
  "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "Kilo", "Lima", "Mike",
  "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "X-ray", "Yankee", "Zulu",
]);

/** DIN 5009 with the traditional names (Anton, Berta, Cäsar, ...) the original service used, not the 2022 city names */
const din5009: Record<string, string> = {
  ...table([
    "Anton", "Berta", "Cäsar", "Dora", "Emil", "Friedrich", "Gustav", "Heinrich", "Ida", "Julius", "Kaufmann", "Ludwig", "Martha",
    "Nordpol", "Otto", "Paula", "Quelle", "Richard", "Siegfried", "Theodor", "Ulrich", "Viktor", "Wilhelm", "Xanthippe", "Ypsilon", "Zacharias",
  ]),
  "Ä": "Ärger", "Ö": "Ökonom", "Ü": "Übermut", "ß": "Eszett",
};

function table(words: string[]): Record<string, string> {
  return Object.fromEntries(words.map((w, i) => [letters[i], w]));
}

/** the primary subtag of the most preferred language: "de-DE,en;q=0.8" → "de"; none or "*" → "" */
function preferredLanguage(acceptLanguage: string | null): string {
  let best = "";
  let bestQ = -1;
  for (const part of (acceptLanguage ?? "").split(",")) {
    const [tag, ...params] = part.trim().split(";");
    if (!tag || tag === "*") continue;
    const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith("q="))?.slice(2) ?? 1);
    if (Number.isFinite(q) && q > bestQ) {
      best = tag.split("-")[0].toLowerCase();
      bestQ = q;
    }
  }
  return best;
}

function spell(character: string, acceptLanguage: string | null): string | undefined {
  const tafel = preferredLanguage(acceptLanguage) === "de" ? din5009 : nato;
  return tafel[character] ?? tafel[character.toUpperCase()];
}

const name = flag("name", "alphabet-service");
const text = { "content-type": "text/plain; charset=utf-8" };

const delayMs = Number(flag("delay-ms", "0"));

const grpc = platform.args().includes("--grpc");
const host = flag("host", "127.0.0.1");
const server = platform.serve({
  hostname: host,
  // with --grpc, HTTP/1.1 is served on an internal port behind the two-protocol listener
  port: grpc ? 0 : Number(flag("port", "0")),
  async handler(request) {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const path = new URL(request.url).pathname;
    const m = /^\/api\/alphabet\/([^/]+)$/.exec(path);
    if (m) {
      let character: string;
      try {
        character = decodeURIComponent(m[1]);
      } catch {
        return new Response("Bad Request\n", { status: 400, headers: text });
      }
      // one character (one code point), as the original's @Size(min = 1, max = 1)
      if ([...character].length !== 1) return new Response("expected one character\n", { status: 400, headers: text });
      const language = request.headers.get("accept-language");
      const word = spell(character, language);
      console.log(`${name}: ${character} → ${word ?? "(none)"} (accept-language ${language ?? "-"}, x-request-id ${request.headers.get("x-request-id") ?? "-"})`);
      if (word === undefined) return new Response(`no word for "${character}"\n`, { status: 404, headers: text });
      return new Response(word, { headers: text });
    }
    if (path === "/" || path === "/health") return new Response("OK\n");
    return new Response("Not Found\n", { status: 404 });
  },
});
if (grpc) {
  const both = await listenBoth(host, Number(flag("port", "0")), server.port, (character, language, requestId) => {
    const word = spell(character, language);
    console.log(`${name}: ${character} → ${word ?? "(none)"} over gRPC (language ${language || "-"}, x-request-id ${requestId})`);
    return word;
  });
  console.log(`${name} listening on ${host}:${both.port}, HTTP/1.1 and gRPC (h2c)`);
} else {
  console.log(`${name} listening on ${server.hostname}:${server.port}`);
}
