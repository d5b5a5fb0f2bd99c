// The spelling service of the seed's demo: GET /api/spelling?word=abc answers a JSON array with one
// spelling-alphabet word per character, e.g. ["Alfa","Bravo","Charlie"]. Like the original, "abc"
// asks a-, b- and c-service for one letter each, and any other word asks alphabet-service once per
// character, one call after the other; each call has a 2 s client timeout, and a call that fails,
// times out or answers anything but 200 gives "?".
// Accept-Language and the trace headers of the incoming request go along with every call.
//
// The service itself, for spelling.ts (behind a sidecar: its fetch goes through HTTP_PROXY) and
// spelling-library.ts (no sidecar: the mesh in process, mesh.fetch).
import { platform } from "../../runtime/platform/index.ts";

function flag(name: string, fallback: string): string {
  const args = platform.args();
  const i = args.indexOf(`--${name}`);
  return i !== -1 && args[i + 1] !== undefined ? args[i + 1] : fallback;
}

const timeoutMs = Number(flag("timeout-ms", "2000"));
const FALLBACK = "?";

/** what the callee needs from the incoming request: the language, and Istio's trace headers */
const forwarded = [
  "accept-language",
  "x-request-id",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
  "b3",
  "x-ot-span-context",
  "traceparent",
  "tracestate",
];

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

async function letter(fetch: Fetch, service: string, character: string, incoming: Headers): Promise<string> {
  const headers = new Headers();
  for (const name of forwarded) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  try {
    const response = await fetch(`http://${service}:8080/api/alphabet/${encodeURIComponent(character)}`, {
      headers,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return response.status === 200 ? body : FALLBACK;
  } catch {
    return FALLBACK;
  }
}

async function spell(fetch: Fetch, word: string, incoming: Headers): Promise<string[]> {
  const out: string[] = [];
  if (word.toLowerCase() === "abc") {
    for (const [service, character] of [["a-service", "a"], ["b-service", "b"], ["c-service", "c"]]) {
      out.push(await letter(fetch, service, character, incoming));
    }
    return out;
  }
  for (const character of word) out.push(await letter(fetch, "alphabet-service", character, incoming));
  return out;
}

/** the spelling service's HTTP handler, calling the other services with fetch */
export function spellingHandler(fetch: Fetch): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/api/spelling") {
      const word = url.searchParams.get("word")?.trim();
      if (!word) return new Response("word must not be blank\n", { status: 400 });
      const spelling = await spell(fetch, word, request.headers);
      console.log(`spelling-service: ${word} → ${spelling.join(" ")} (x-request-id ${request.headers.get("x-request-id") ?? "-"})`);
      return Response.json(spelling);
    }
    if (url.pathname === "/" || url.pathname === "/health") return new Response("OK\n");
    return new Response("Not Found\n", { status: 404 });
  };
}

export { flag };
