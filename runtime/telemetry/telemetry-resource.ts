// Which access loggers a workload runs, from Istio's Telemetry resources (telemetry.istio.io v1,
// v1alpha1): spec.accessLogging[] with providers, disabled, match.mode and filter. Levels apply
// in Istio's order — the root namespace's namespace-wide resource, then the workload's
// namespace-wide one, then those whose selector matches the workload — and the merge is a port of
// Istio's own (pilot/pkg/model/telemetry.go, applicableTelemetries and mergeLogs), so a more
// specific level overrides a wider one provider by provider.
//
// Supported: selector.matchLabels, providers[].name, disabled, match.mode, filter.expression
// (carried as text; dietmesh does not evaluate CEL). Not supported, reported as issues:
// targetRef/targetRefs (a resource using them is ignored), metrics and tracing sections.

export type WorkloadMode = "CLIENT" | "SERVER";
export interface AccessLogProvider {
  readonly name: string;
  /** CEL expression from filter.expression; undefined = log every request */
  readonly filter?: string;
}
/** enabled providers for outbound (CLIENT: this workload calls) and inbound (SERVER) traffic */
export interface AccessLogDecision {
  readonly client: readonly AccessLogProvider[];
  readonly server: readonly AccessLogProvider[];
}
export interface Workload {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}
export interface TelemetryAccessLogging {
  readonly issues: readonly string[];
  forWorkload(workload: Workload): AccessLogDecision;
}

/** a loaded resource as runtime/config keeps kinds it does not validate (MeshConfig.other) */
export interface ResourceLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; creationTimestamp?: string };
  spec: unknown;
}

interface Rule {
  providers?: string[];
  disabled: boolean;
  mode: "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";
  filter?: string;
}
interface Policy {
  namespace: string;
  matchLabels?: Record<string, string>;
  rules: Rule[];
}

const MODES = new Set(["CLIENT", "SERVER", "CLIENT_AND_SERVER"]);
type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const matchMode = (rule: Rule, mode: WorkloadMode) => rule.mode === "CLIENT_AND_SERVER" || rule.mode === mode;

function parseRule(raw: unknown, where: string, issues: string[]): Rule | undefined {
  if (!isObject(raw)) return void issues.push(`${where}: expected a mapping`);
  const rule: Rule = { disabled: raw.disabled === true, mode: "CLIENT_AND_SERVER" };
  if (raw.providers !== undefined) {
    if (!Array.isArray(raw.providers)) return void issues.push(`${where}.providers: expected a list`);
    rule.providers = [];
    for (const p of raw.providers) {
      if (isObject(p) && typeof p.name === "string" && p.name) rule.providers.push(p.name);
      else issues.push(`${where}.providers: each entry needs a name`);
    }
    if (!rule.providers.length) rule.providers = undefined; // [] means "unset" in the proto too
  }
  if (isObject(raw.match) && raw.match.mode !== undefined) {
    if (!MODES.has(raw.match.mode as string)) return void issues.push(`${where}.match.mode: expected CLIENT, SERVER or CLIENT_AND_SERVER`);
    rule.mode = raw.match.mode as Rule["mode"];
  }
  if (isObject(raw.filter) && typeof raw.filter.expression === "string") rule.filter = raw.filter.expression;
  return rule;
}

function parsePolicy(r: ResourceLike, issues: string[]): Policy | undefined {
  const where = `Telemetry ${r.metadata.namespace}/${r.metadata.name}`;
  const spec = isObject(r.spec) ? r.spec : {};
  if (spec.targetRef !== undefined || spec.targetRefs !== undefined) {
    return void issues.push(`${where}: targetRef(s) is not supported; the resource is ignored`);
  }
  for (const key of ["metrics", "tracing"]) if (spec[key] !== undefined) issues.push(`${where}: spec.${key} is not applied by dietmesh`);
  let matchLabels: Record<string, string> | undefined;
  if (spec.selector !== undefined) {
    const m = isObject(spec.selector) ? spec.selector.matchLabels : undefined;
    if (m !== undefined && !isObject(m)) return void issues.push(`${where}.selector.matchLabels: expected a mapping`);
    if (m && Object.keys(m).length) matchLabels = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  }
  if (spec.accessLogging === undefined) return undefined;
  if (!Array.isArray(spec.accessLogging)) return void issues.push(`${where}.accessLogging: expected a list`);
  const rules: Rule[] = [];
  spec.accessLogging.forEach((raw, i) => {
    const rule = parseRule(raw, `${where}.accessLogging[${i}]`, issues);
    if (rule) rules.push(rule);
  });
  return rules.length ? { namespace: r.metadata.namespace, matchLabels, rules } : undefined;
}

/** Istio's mergeLogs for one mode: the last level that names providers sets which are in scope. */
function merge(levels: readonly Rule[][], defaults: readonly string[], mode: WorkloadMode): AccessLogProvider[] {
  if (!levels.length) return defaults.map((name) => ({ name }));
  let inScope: readonly string[] = defaults;
  const filters = new Map<string, string | undefined>();
  for (const rules of levels) {
    const names = new Set<string>();
    for (const rule of rules) {
      if (!matchMode(rule, mode)) continue;
      for (const p of rule.providers ?? []) {
        names.add(p);
        filters.set(p, rule.filter);
      }
    }
    if (names.size) inScope = [...names];
  }
  const scope = new Set(inScope);
  const state = new Map<string, boolean>();
  let parent: readonly string[] = defaults;
  for (const rules of levels) {
    for (const rule of rules) {
      // a rule without providers speaks for the previous rule's (Istio's "parent" providers)
      const names = rule.providers ?? parent;
      parent = names;
      if (!matchMode(rule, mode)) continue;
      for (const p of names) if (scope.has(p)) state.set(p, !rule.disabled);
    }
  }
  const out: AccessLogProvider[] = [];
  for (const [name, on] of state) if (on) out.push(filters.get(name) === undefined ? { name } : { name, filter: filters.get(name) });
  return out;
}

const olderFirst = (a: ResourceLike, b: ResourceLike) =>
  (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
  a.metadata.namespace.localeCompare(b.metadata.namespace) ||
  a.metadata.name.localeCompare(b.metadata.name);

export function parseTelemetryAccessLogging(
  resources: readonly ResourceLike[],
  options: { rootNamespace?: string; defaultProviders?: readonly string[] } = {},
): TelemetryAccessLogging {
  const root = options.rootNamespace ?? "istio-system";
  const defaults = options.defaultProviders ?? [];
  const issues: string[] = [];
  const wide = new Map<string, Policy>();
  const selected = new Map<string, Policy[]>();
  const telemetry = resources.filter((r) => r.kind === "Telemetry" && r.apiVersion.startsWith("telemetry.istio.io/")).sort(olderFirst);
  for (const r of telemetry) {
    const policy = parsePolicy(r, issues);
    if (!policy) continue;
    if (policy.matchLabels) {
      const list = selected.get(policy.namespace) ?? [];
      list.push(policy);
      selected.set(policy.namespace, list);
    } else if (wide.has(policy.namespace)) {
      // Istio applies only the oldest namespace-wide resource; say so rather than merge silently
      issues.push(`Telemetry ${r.metadata.namespace}/${r.metadata.name}: another namespace-wide Telemetry in ${policy.namespace} is older and wins; this one is ignored`);
    } else wide.set(policy.namespace, policy);
  }

  return {
    issues,
    forWorkload(workload) {
      const levels: Rule[][] = [];
      const rootPolicy = wide.get(root);
      if (rootPolicy) levels.push(rootPolicy.rules);
      const nsPolicy = workload.namespace !== root ? wide.get(workload.namespace) : undefined;
      if (nsPolicy) levels.push(nsPolicy.rules);
      for (const p of selected.get(workload.namespace) ?? []) {
        if (Object.entries(p.matchLabels!).every(([k, v]) => workload.labels[k] === v)) levels.push(p.rules);
      }
      return { client: merge(levels, defaults, "CLIENT"), server: merge(levels, defaults, "SERVER") };
    },
  };
}
