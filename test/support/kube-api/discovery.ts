// Discovery and OpenAPI documents: /api, /api/v1, /apis, /apis/<group>[/<version>], /version,
// and the OpenAPI v3 index with one small document per group-version. Aggregated discovery is
// not offered: kubectl asks for it first, accepts the plain documents and reads each version's
// resource list. The OpenAPI documents hold only what kubectl reads from them: every kind's
// PATCH operation with its group-version-kind and the fieldValidation query parameter, which
// tells kubectl to leave --validate to the server (so --validate=strict works). They carry no
// schemas, so kubectl explain has nothing to show and client-side apply uses kubectl's built-in
// patch strategies.
import { groups, typesIn, type ResourceType } from "./resources.ts";

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
export const SERVER_VERSION = { major: "1", minor: "32", gitVersion: "v1.32.0-dietmesh-test", gitCommit: "0000000000000000000000000000000000000000", gitTreeState: "clean", buildDate: "2024-12-11T00:00:00Z", goVersion: "go1.23.3", compiler: "gc", platform: "linux/amd64" };

const gvOf = (group: string, version: string) => (group ? `${group}/${version}` : version);

export function apiVersions(address: string) {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: address }] };
}

function group(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: gvOf(name, version), version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList() {
  const list = [...groups()].filter(([name]) => name !== "").map(([name, versions]) => group(name, versions));
  return { kind: "APIGroupList", apiVersion: "v1", groups: list };
}

export function apiGroup(name: string) {
  const versions = groups().get(name);
  return versions && name ? { kind: "APIGroup", apiVersion: "v1", ...group(name, versions) } : undefined;
}

export function resourceList(groupName: string, version: string) {
  const types = typesIn(groupName, version);
  if (!types.length) return undefined;
  const resources = types.flatMap((t) => {
    const main = {
      name: t.resource, singularName: t.singular, namespaced: t.namespaced, kind: t.kind, verbs: VERBS,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
      storageVersionHash: btoa(`${t.group}/${t.resource}`).slice(0, 11),
    };
    const status = { name: `${t.resource}/status`, singularName: "", namespaced: t.namespaced, kind: t.kind, verbs: ["get", "patch", "update"] };
    return t.status ? [main, status] : [main];
  });
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gvOf(groupName, version), resources };
}

const prefixOf = (groupName: string, version: string) => (groupName ? `apis/${groupName}/${version}` : `api/${version}`);

/** /openapi/v3: where each group-version's document is */
export function openApiIndex() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [name, versions] of groups()) {
    for (const version of versions) {
      const prefix = prefixOf(name, version);
      paths[prefix] = { serverRelativeURL: `/openapi/v3/${prefix}?hash=${btoa(prefix).replace(/=/g, "")}` };
    }
  }
  return { paths };
}

function operations(t: ResourceType, version: string) {
  const gvk = { group: t.group, version, kind: t.kind };
  const query = (name: string) => ({ name, in: "query", schema: { type: "string", uniqueItems: true } });
  const params = ["dryRun", "fieldManager", "fieldValidation"].map(query);
  const op = (id: string, more: Record<string, unknown> = {}) => ({
    operationId: `${id}${t.kind}`, "x-kubernetes-action": id, "x-kubernetes-group-version-kind": gvk,
    responses: { "200": { description: "OK" } }, ...more,
  });
  return {
    collection: { get: op("list"), post: op("create", { parameters: params }) },
    item: { get: op("get"), put: op("replace", { parameters: params }), patch: op("patch", { parameters: [...params, query("force")] }), delete: op("delete") },
  };
}

/** /openapi/v3/api/v1, /openapi/v3/apis/<group>/<version> */
export function openApiDocument(path: string) {
  const m = /^(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!m) return undefined;
  const [groupName, version] = m[1] ? ["", m[1]] : [m[2], m[3]];
  const types = typesIn(groupName, version);
  if (!types.length) return undefined;
  const paths: Record<string, unknown> = {};
  for (const t of types) {
    const base = `/${prefixOf(groupName, version)}${t.namespaced ? "/namespaces/{namespace}" : ""}/${t.resource}`;
    const { collection, item } = operations(t, version);
    paths[base] = collection;
    paths[`${base}/{name}`] = item;
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes (dietmesh test API server)", version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

