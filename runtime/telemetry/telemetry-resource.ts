// Which access loggers a workload runs, from Istio's Telemetry resources (telemetry.istio.io v1,
// v1alpha1): spec.accessLogging[] with providers, disabled and match.mode. Levels apply in Istio's
// order — the root namespace's namespace-wide resource, then the workload's namespace-wide one,
// then those whose selector matches the workload — and the merge is a port of Istio's own
// (pilot/pkg/model/telemetry.go, applicableTelemetries and mergeLogs), so a more specific level
// overrides a wider one provider by provider.
//
// Tracing the same way: randomSamplingPercentage and disableSpanReporting per side, a more specific
// level overriding what it sets.
//
// The specs were validated at load (config/schemas.ts telemetrySpec): what dietmesh cannot honour
// (filter, providers other than "envoy", targetRef(s), tracing customTags, metrics overrides) never
// reaches this file. The one thing reported here is Istio's own rule that
// only the oldest namespace-wide resource of a namespace applies.

/** the one access log dietmesh has: stdout, in --access-log's format (cli/telemetry-setup.ts) */
export const ACCESS_LOG_PROVIDER = "envoy";

export type WorkloadMode = "CLIENT" | "SERVER";
export interface AccessLogProvider {
  readonly name: string;
}
/** one side's tracing: the share of new traces sampled (unset: the proxy's --trace-sampling), and whether spans are reported */
export interface TracingDecision {
  readonly samplingPercent?: number;
  readonly reportSpans: boolean;
  /** a Telemetry's tracing applies to this side (it has effect only where spans are exported) */
  readonly traced: boolean;
}
/** enabled providers for outbound (CLIENT: this workload calls) and inbound (SERVER) traffic, and each side's tracing */
export interface AccessLogDecision {
  readonly client: readonly AccessLogProvider[];
  readonly server: readonly AccessLogProvider[];
  readonly tracing: { readonly client: TracingDecision; readonly server: TracingDecision };
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
}
interface TracingRule {
  mode: Rule["mode"];
  samplingPercent?: number;
  disableSpanReporting?: boolean;
}
interface Policy {
  namespace: string;
  matchLabels?: Record<string, string>;
  rules: Rule[];
  tracing: TracingRule[];
}

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === "object" && v !== null && !Array.isArray(v);
const matchMode = (rule: Rule, mode: WorkloadMode) => rule.mode === "CLIENT_AND_SERVER" || rule.mode === mode;

/** an accessLogging entry, its shape checked at load */
function parseRule(raw: Raw): Rule {
  const providers = Array.isArray(raw.providers) ? raw.providers.map((p: { name: string }) => p.name) : [];
  const mode = isObject(raw.match) && typeof raw.match.mode === "string" ? (raw.match.mode as Rule["mode"]) : "CLIENT_AND_SERVER";
  // [] means "unset" in the proto too
  return { providers: providers.length ? providers : undefined, disabled: raw.disabled === true, mode };
}

/** a resource's level; no rules when it sets no access logging (it still counts as its namespace's wide resource) */
function parsePolicy(r: ResourceLike): Policy {
  const spec = isObject(r.spec) ? r.spec : {};
  const m = isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : undefined;
  const matchLabels = m && Object.keys(m).length ? Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) : undefined;
  const tracing = Array.isArray(spec.tracing) ? spec.tracing.filter(isObject).map(parseTracing) : [];
  return { namespace: r.metadata.namespace, matchLabels, rules: Array.isArray(spec.accessLogging) ? spec.accessLogging.map(parseRule) : [], tracing };
}

function parseTracing(raw: Raw): TracingRule {
  const mode = isObject(raw.match) && typeof raw.match.mode === "string" ? (raw.match.mode as Rule["mode"]) : "CLIENT_AND_SERVER";
  return {
    mode,
    samplingPercent: typeof raw.randomSamplingPercentage === "number" ? raw.randomSamplingPercentage : undefined,
    disableSpanReporting: typeof raw.disableSpanReporting === "boolean" ? raw.disableSpanReporting : undefined,
  };
}

/**
 * Istio's tracing merge for one side: wider levels first, a more specific one overriding each field
 * it sets (randomSamplingPercentage, disableSpanReporting) for the rules whose mode covers the side.
 */
function mergeTracing(levels: readonly TracingRule[][], mode: WorkloadMode): TracingDecision {
  let samplingPercent: number | undefined;
  let disabled = false;
  let traced = false;
  for (const rules of levels) {
    for (const rule of rules) {
      if (rule.mode !== "CLIENT_AND_SERVER" && rule.mode !== mode) continue;
      traced = true;
      if (rule.samplingPercent !== undefined) samplingPercent = rule.samplingPercent;
      if (rule.disableSpanReporting !== undefined) disabled = rule.disableSpanReporting;
    }
  }
  return { samplingPercent, reportSpans: !disabled, traced };
}

/** Istio's mergeLogs for one mode: the last level that names providers sets which are in scope. */
function merge(levels: readonly Rule[][], defaults: readonly string[], mode: WorkloadMode): AccessLogProvider[] {
  if (!levels.length) return defaults.map((name) => ({ name }));
  let inScope: readonly string[] = defaults;
  for (const rules of levels) {
    const names = new Set<string>();
    for (const rule of rules) {
      if (!matchMode(rule, mode)) continue;
      for (const p of rule.providers ?? []) names.add(p);
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
  for (const [name, on] of state) if (on) out.push({ name });
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
    // Istio's namespaceWideTelemetryConfig: the oldest without a selector, whatever it configures
    const policy = parsePolicy(r);
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
      const tracing: TracingRule[][] = [];
      // a level without access logging (or tracing) leaves the wider ones as they are (Istio appends only non-empty ones)
      const add = (p: Policy | undefined) => {
        if (p?.rules.length) levels.push(p.rules);
        if (p?.tracing.length) tracing.push(p.tracing);
      };
      add(wide.get(root));
      if (workload.namespace !== root) add(wide.get(workload.namespace));
      for (const p of selected.get(workload.namespace) ?? []) {
        if (Object.entries(p.matchLabels!).every(([k, v]) => workload.labels[k] === v)) add(p);
      }
      return {
        client: merge(levels, defaults, "CLIENT"),
        server: merge(levels, defaults, "SERVER"),
        tracing: { client: mergeTracing(tracing, "CLIENT"), server: mergeTracing(tracing, "SERVER") },
      };
    },
  };
}
