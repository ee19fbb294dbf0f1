/**
 * Scraping /metrics the way Prometheus does (a bearer token, the text format), parsed by a real
 * Prometheus text-format parser rather than by the code under test.
 */
import { execa } from 'execa';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { fetchTrusting } from './management.js';

export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  /** Histograms: cumulative counts by upper bound, the count and the sum. */
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Sample[];
}

function parse(text: string): MetricFamily[] {
  return parsePrometheusTextFormat(text) as MetricFamily[];
}

/**
 * The parser folds every series of a labelled histogram into one and drops their labels (it
 * handles unlabelled histograms only), so each histogram line is parsed on its own, as the
 * untyped sample it is, and the series are put together again by their labels.
 */
function histogramSeries(text: string, family: string): Sample[] {
  const series = new Map<string, Required<Pick<Sample, 'labels' | 'buckets'>> & Sample>();
  const line = new RegExp(`^${family}_(bucket|sum|count)[{ ]`);
  for (const sampleLine of text.split('\n').filter((candidate) => line.test(candidate))) {
    const [parsed] = parse(`${sampleLine}\n`);
    const sample = parsed!.metrics[0]!;
    const { le, ...labels } = sample.labels ?? {};
    const key = JSON.stringify(Object.entries(labels).sort());
    const entry = series.get(key) ?? { labels, buckets: {} };
    series.set(key, entry);
    if (parsed!.name.endsWith('_bucket')) entry.buckets[le!] = sample.value!;
    else if (parsed!.name.endsWith('_count')) entry.count = sample.value;
    else entry.sum = sample.value;
  }
  return [...series.values()];
}

/** Scrapes a management port over TLS, trusting `ca` (the domain's, as `tls_config.ca_file` does). */
export async function scrape(port: number, token: string | undefined, ca: string): Promise<{ status: number; contentType: string; text: string; families: MetricFamily[] }> {
  const fetch = fetchTrusting(ca);
  const response = await fetch(`https://127.0.0.1:${port}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const families = response.status === 200 ? parse(text) : [];
  for (const family of families) if (family.type === 'HISTOGRAM') family.metrics = histogramSeries(text, family.name);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, families };
}

/** The series of `name` whose labels include `labels`; undefined when there is none. */
export function series(families: MetricFamily[], name: string, labels: Record<string, string> = {}): Sample | undefined {
  const family = families.find((candidate) => candidate.name === name);
  return family?.metrics.find((metric) => Object.entries(labels).every(([label, value]) => metric.labels?.[label] === value));
}

/** A counter's or gauge's value, or a histogram's count; NaN when there is no such series. */
export function value(families: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const found = series(families, name, labels);
  return Number(found?.value ?? found?.count ?? Number.NaN);
}

/** Prometheus's own linter, from Debian's prometheus package (scripts/system-packages.sh installs it). */
export const PROMTOOL = '/usr/bin/promtool';

/**
 * `promtool check metrics` on an exposition: exit 0 when Prometheus's naming and format rules
 * hold, else 3, with one line per problem in `problems`.
 */
export async function promtoolCheck(text: string): Promise<{ exitCode: number; problems: string }> {
  const checked = await execa(PROMTOOL, ['check', 'metrics'], { input: text, reject: false, all: true });
  return { exitCode: checked.exitCode ?? -1, problems: checked.all ?? '' };
}
