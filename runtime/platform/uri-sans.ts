// The URI subject alternative names of a peer certificate as the TLS libraries describe it
// ("URI:spiffe://a, DNS:x"): a SPIFFE X.509-SVID has exactly one, and an ID has no comma or space.
export function uriSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of subjectAltName.split(", ")) if (part.startsWith("URI:")) out.push(part.slice(4));
  return out;
}
