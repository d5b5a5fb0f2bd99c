// X.509 name constraints (RFC 5280 §4.2.1.10) as far as an SVID chain needs them: URI and DNS
// subtrees are evaluated against the names below the CA; any other kind of subtree (directory
// names, IP ranges, e-mail, minimum/maximum) cannot be evaluated here, so the chain is refused
// rather than trusted without the check the CA asked for. The extension's DER is read by hand:
// @peculiar/x509 has no class for it, and it is a short structure.

export interface Subtree {
  /** "uri", "dns", or the GeneralName tag we do not evaluate */
  kind: "uri" | "dns" | `tag ${number}`;
  value: string;
  /** minimum/maximum given (RFC 5280: MUST NOT be; unevaluable) */
  bounded: boolean;
}

export interface NameConstraints {
  permitted: Subtree[];
  excluded: Subtree[];
}

interface Tlv {
  tag: number;
  body: Uint8Array;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at];
  let length = der[at + 1];
  let offset = at + 2;
  if (length === undefined || tag === undefined) throw new Error("truncated DER");
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[offset + i];
    offset += bytes;
  }
  if (offset + length > der.length) throw new Error("truncated DER");
  return { tag, body: der.subarray(offset, offset + length), end: offset + length };
}

function children(der: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < der.length; ) {
    const t = readTlv(der, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

function subtrees(der: Uint8Array): Subtree[] {
  return children(der).map((subtree) => {
    if (subtree.tag !== 0x30) throw new Error("a GeneralSubtree is not a SEQUENCE");
    const [base, ...rest] = children(subtree.body);
    if (!base) throw new Error("an empty GeneralSubtree");
    const kind = base.tag === 0x86 ? "uri" : base.tag === 0x82 ? "dns" : (`tag ${base.tag}` as const);
    return { kind, value: latin1(base.body), bounded: rest.length > 0 };
  });
}

/** the extension's value (the DER inside extnValue); throws on anything malformed */
export function parseNameConstraints(der: Uint8Array): NameConstraints {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error("NameConstraints is not one SEQUENCE");
  const result: NameConstraints = { permitted: [], excluded: [] };
  for (const part of children(outer.body)) {
    if (part.tag === 0xa0) result.permitted.push(...subtrees(part.body));
    else if (part.tag === 0xa1) result.excluded.push(...subtrees(part.body));
    else throw new Error(`unexpected tag ${part.tag} in NameConstraints`);
  }
  return result;
}

/** the host of a URI (a SPIFFE ID's trust domain), lower case; RFC 5280 constrains URIs by host */
function uriHost(uri: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return (m?.[1] ?? "").toLowerCase();
}

function uriMatches(uri: string, constraint: string): boolean {
  const host = uriHost(uri);
  const c = constraint.toLowerCase();
  // ".example.com" is any host below it; "example.com" that host only
  return c.startsWith(".") ? host.endsWith(c) && host.length > c.length : host === c;
}

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase().replace(/^\./, "");
  return c === "" || n === c || n.endsWith(`.${c}`);
}

/**
 * why the names of a certificate below the constraining CA break its constraints (or cannot be
 * checked against them), or undefined when they keep to them
 */
export function nameConstraintsProblem(c: NameConstraints, names: { uris: readonly string[]; dns: readonly string[] }): string | undefined {
  const unevaluable = [...c.permitted, ...c.excluded].find((s) => s.bounded || (s.kind !== "uri" && s.kind !== "dns"));
  if (unevaluable) return `name constraints of a kind dietmesh cannot evaluate (${unevaluable.bounded ? "minimum/maximum" : unevaluable.kind})`;
  const check = (kind: "uri" | "dns", list: readonly string[], matches: (name: string, c: string) => boolean): string | undefined => {
    const permitted = c.permitted.filter((s) => s.kind === kind);
    for (const name of list) {
      const excluded = c.excluded.find((s) => s.kind === kind && matches(name, s.value));
      if (excluded) return `${name} is in the excluded subtree ${JSON.stringify(excluded.value)}`;
      if (permitted.length && !permitted.some((s) => matches(name, s.value))) return `${name} is outside the permitted subtrees ${permitted.map((s) => JSON.stringify(s.value)).join(", ")}`;
    }
    return undefined;
  };
  return check("uri", names.uris, uriMatches) ?? check("dns", names.dns, dnsMatches);
}
