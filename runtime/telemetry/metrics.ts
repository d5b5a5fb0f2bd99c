// A small metrics registry for /stats/prometheus: counters, gauges and histograms with fixed label
// names, rendered in the Prometheus text exposition format 0.0.4. A series is created once per
// label set and then updated with a plain field write, so the request path never builds strings;
// a registry-wide cap on series keeps a bad label source from growing memory without bound.

export type MetricType = "counter" | "gauge" | "histogram";

export interface CounterSeries {
  inc(by?: number): void;
  readonly value: number;
}
export interface GaugeSeries extends CounterSeries {
  set(value: number): void;
  dec(by?: number): void;
}
export interface HistogramSeries {
  observe(value: number): void;
  readonly count: number;
  readonly sum: number;
}

/** One metric name with fixed label names; `series` resolves a label set (cache the result). */
export interface Family<S> {
  readonly name: string;
  readonly labelNames: readonly string[];
  /** values in labelNames order; over the series cap, a shared series that only counts drops */
  series(values: readonly string[]): S;
}

/** a scrape-time reading: emit one value per label set (label values in labelNames order) */
export type Collect = (emit: (values: readonly string[], value: number) => void) => void;

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Family<CounterSeries>;
  gauge(name: string, help: string, labelNames?: readonly string[]): Family<GaugeSeries>;
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Family<HistogramSeries>;
  /** values read when scraped (gauges from live state, counters kept elsewhere); not capped */
  collect(name: string, help: string, type: "counter" | "gauge", labelNames: readonly string[], read: Collect): void;
  /** the text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4) */
  expose(): string;
  readonly seriesCount: number;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const DEFAULT_MAX_SERIES = 10_000;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** label values: backslash, double quote and line feed are escaped (exposition format spec) */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`)) : value;
}
/** HELP text: only backslash and line feed are escaped */
const escapeHelp = (help: string) => help.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return Number.isNaN(v) ? "NaN" : String(v);
}
/** `a="x",b="y"`: rendered once per series; braces added where used */
function renderPairs(names: readonly string[], values: readonly string[]): string {
  let out = "";
  for (let i = 0; i < names.length; i++) out += `${i ? "," : ""}${names[i]}="${escapeLabelValue(values[i] ?? "")}"`;
  return out;
}
const braced = (pairs: string) => (pairs ? `{${pairs}}` : "");

class Counter implements CounterSeries {
  value = 0;
  constructor(readonly pairs: string) {}
  inc(by = 1): void {
    this.value += by;
  }
}
class Gauge extends Counter implements GaugeSeries {
  set(v: number): void {
    this.value = v;
  }
  dec(by = 1): void {
    this.value -= by;
  }
}
class Histogram implements HistogramSeries {
  /** per bucket, not cumulative: observe touches one slot; exposition sums */
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  constructor(readonly pairs: string, readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    if (v !== v) return; // NaN would land in the first bucket and poison the sum
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    if (i < b.length) this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}
/** what a family hands out past the cap: every update is counted as dropped, nothing is kept */
class Dropped implements CounterSeries, GaugeSeries, HistogramSeries {
  readonly value = 0;
  readonly count = 0;
  readonly sum = 0;
  constructor(private readonly onDrop: () => void) {}
  inc = () => this.onDrop();
  dec = this.inc;
  set = this.inc;
  observe = this.inc;
}

type Series = Counter | Gauge | Histogram;
type Entry = { name: string; help: string; type: MetricType; render(out: string[]): void };

export function createRegistry(options: { maxSeries?: number } = {}): Registry {
  const maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
  const entries: Entry[] = [];
  const names = new Set<string>();
  let seriesCount = 0;
  let dropped = 0;
  const drop = new Dropped(() => void dropped++);

  function claim(name: string, labelNames: readonly string[], type: MetricType): void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    if (names.has(name)) throw new Error(`metric "${name}" is already registered`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) throw new Error(`invalid label name "${l}" on ${name}`);
      if (type === "histogram" && l === "le") throw new Error(`histogram ${name} may not use the label "le"`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new Error(`duplicate label name on ${name}`);
    names.add(name);
  }

  function family<S extends Series>(name: string, help: string, type: MetricType, labelNames: readonly string[], make: (pairs: string) => S, render: (s: S, out: string[]) => void): Family<S> {
    claim(name, labelNames, type);
    const byKey = new Map<string, S>();
    entries.push({ name, help, type, render: (out) => byKey.forEach((s) => render(s, out)) });
    return {
      name,
      labelNames,
      series(values) {
        if (values.length !== labelNames.length) throw new Error(`${name} takes ${labelNames.length} label values, got ${values.length}`);
        // resolved once per label set by callers, so a collision-free key beats a fast one here
        const key = JSON.stringify(values);
        let s = byKey.get(key);
        if (s) return s;
        if (seriesCount >= maxSeries) return drop as unknown as S;
        s = make(renderPairs(labelNames, values));
        byKey.set(key, s);
        seriesCount++;
        return s;
      },
    };
  }

  const numeric = (name: string) => (s: Counter | Gauge, out: string[]) => void out.push(`${name}${braced(s.pairs)} ${formatValue(s.value)}`);

  const registry: Registry = {
    counter: (name, help, labelNames = []) => family(name, help, "counter", labelNames, (p) => new Counter(p), numeric(name)),
    gauge: (name, help, labelNames = []) => family(name, help, "gauge", labelNames, (p) => new Gauge(p), numeric(name)),
    histogram(name, help, labelNames, buckets) {
      if (buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))) throw new Error(`${name}: buckets must be finite and increasing`);
      const bounds = [...buckets];
      const le = bounds.map(formatValue);
      return family(name, help, "histogram", labelNames, (p) => new Histogram(p, bounds), (s, out) => {
        const prefix = s.pairs ? `${s.pairs},` : "";
        let cumulative = 0;
        for (let i = 0; i < bounds.length; i++) {
          cumulative += s.counts[i];
          out.push(`${name}_bucket{${prefix}le="${le[i]}"} ${cumulative}`);
        }
        out.push(`${name}_bucket{${prefix}le="+Inf"} ${s.count}`);
        out.push(`${name}_sum${braced(s.pairs)} ${formatValue(s.sum)}`);
        out.push(`${name}_count${braced(s.pairs)} ${s.count}`);
      });
    },
    collect(name, help, type, labelNames, read) {
      claim(name, labelNames, type);
      entries.push({ name, help, type, render: (out) => read((values, v) => void out.push(`${name}${braced(renderPairs(labelNames, values))} ${formatValue(v)}`)) });
    },
    expose() {
      const out: string[] = [];
      for (const e of entries) {
        out.push(`# HELP ${e.name} ${escapeHelp(e.help)}`, `# TYPE ${e.name} ${e.type}`);
        e.render(out);
      }
      out.push("");
      return out.join("\n");
    },
    get seriesCount() {
      return seriesCount;
    },
  };
  registry.collect("dietmesh_metrics_series", "Metric series held by the registry (capped; see dietmesh_metrics_dropped_total).", "gauge", [], (emit) => emit([], seriesCount));
  registry.collect("dietmesh_metrics_dropped_total", "Metric updates discarded because the series cap was reached.", "counter", [], (emit) => emit([], dropped));
  return registry;
}
