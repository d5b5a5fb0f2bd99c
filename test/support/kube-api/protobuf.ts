// kubectl's typed clients (`kubectl create namespace NAME`, `kubectl create serviceaccount NAME`,
// `kubectl create secret tls|generic NAME`) send protobuf, not JSON. This decodes just enough of
// Kubernetes' protobuf envelope to accept those kinds — ObjectMeta, and a Secret's data, type,
// stringData and immutable — so the everyday commands work; any other protobuf body is answered
// 415, which kubectl reports as is. Answers are JSON,
// which typed clients accept.

/** the four bytes that start every Kubernetes protobuf body */
const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"

interface Field {
  number: number;
  /** varint value, or the bytes of a length-delimited field */
  value: number | Uint8Array;
}

function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined) throw new Error("truncated varint");
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    const number = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) out.push({ number, value: varint() });
    else if (wire === 2) {
      const length = varint();
      out.push({ number, value: bytes.subarray(i, i + length) });
      i += length;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (v: number | Uint8Array) => (typeof v === "number" ? String(v) : new TextDecoder().decode(v));
const bytesOf = (v: number | Uint8Array) => (typeof v === "number" ? new Uint8Array() : v);

/** ObjectMeta: name 1, generateName 2, namespace 3, labels 11, annotations 12, finalizers 14 */
function objectMeta(bytes: Uint8Array): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  const map = (key: string, entry: Uint8Array) => {
    const kv = Object.fromEntries(fields(entry).map((f) => [f.number, text(f.value)]));
    meta[key] = { ...(meta[key] as object), [kv[1] ?? ""]: kv[2] ?? "" };
  };
  for (const f of fields(bytes)) {
    if (f.number === 1) meta.name = text(f.value);
    else if (f.number === 2) meta.generateName = text(f.value);
    else if (f.number === 3) meta.namespace = text(f.value);
    else if (f.number === 11) map("labels", bytesOf(f.value));
    else if (f.number === 12) map("annotations", bytesOf(f.value));
    else if (f.number === 14) meta.finalizers = [...((meta.finalizers as string[]) ?? []), text(f.value)];
  }
  return meta;
}

/**
 * A Namespace or ServiceAccount from a protobuf body as JSON (metadata only: their other fields
 * are empty when kubectl creates them); undefined for anything else.
 */
export function decodeProtobuf(body: Uint8Array): Record<string, unknown> | undefined {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) return undefined;
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array = new Uint8Array();
  for (const f of fields(body.subarray(4))) {
    if (f.number === 1) {
      for (const t of fields(bytesOf(f.value))) {
        if (t.number === 1) apiVersion = text(t.value);
        if (t.number === 2) kind = text(t.value);
      }
    } else if (f.number === 2) raw = bytesOf(f.value);
  }
  if (apiVersion !== "v1" || (kind !== "Namespace" && kind !== "ServiceAccount" && kind !== "Secret")) return undefined;
  const metadata = fields(raw).find((f) => f.number === 1);
  const out: Record<string, unknown> = { apiVersion, kind, metadata: metadata ? objectMeta(bytesOf(metadata.value)) : {} };
  if (kind === "Secret") Object.assign(out, secretFields(raw));
  return out;
}

/** Secret: data 2 (map<string, bytes>, base64 in JSON), type 3, stringData 4, immutable 5 */
function secretFields(raw: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entry = (v: number | Uint8Array) => {
    const kv = fields(bytesOf(v));
    return [text(kv.find((f) => f.number === 1)?.value ?? new Uint8Array()), bytesOf(kv.find((f) => f.number === 2)?.value ?? new Uint8Array())] as const;
  };
  for (const f of fields(raw)) {
    if (f.number === 2) {
      const [key, value] = entry(f.value);
      out.data = { ...(out.data as object), [key]: btoa(Array.from(value, (b) => String.fromCharCode(b)).join("")) };
    } else if (f.number === 3) out.type = text(f.value);
    else if (f.number === 4) {
      const [key, value] = entry(f.value);
      out.stringData = { ...(out.stringData as object), [key]: new TextDecoder().decode(value) };
    } else if (f.number === 5) out.immutable = f.value === 1;
  }
  return out;
}
