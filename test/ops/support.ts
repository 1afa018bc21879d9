/** Scraping /metrics in tests: the text parsed by a maintained parser, samples looked up by labels. */
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, {
  type PrometheusFamily,
  type PrometheusSample,
} from 'parse-prometheus-text-format';

/**
 * One scrape, parsed. The parser keeps prom2json's shape, which folds a histogram's labelled
 * series into one unlabelled entry; so histograms are also parsed a second time with their
 * HELP and TYPE lines left out, which makes each `<name>_count` series an untyped sample that
 * keeps its labels (families seen several times are merged).
 */
export class Scrape {
  readonly #families = new Map<string, PrometheusFamily>();

  constructor(readonly text: string) {
    const histograms = new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]));
    const flat = text
      .split('\n')
      .filter((line) => !histograms.has(/^# (?:HELP|TYPE) (\S+)/.exec(line)?.[1]))
      .join('\n');
    for (const family of parsePrometheusTextFormat(text)) this.#families.set(family.name, family);
    const split = new Map<string, PrometheusFamily>();
    for (const family of parsePrometheusTextFormat(flat)) {
      if (this.#families.has(family.name)) continue;
      const seen = split.get(family.name);
      if (seen) seen.metrics.push(...family.metrics);
      else split.set(family.name, family);
    }
    for (const [name, family] of split) this.#families.set(name, family);
  }

  family(name: string): PrometheusFamily | undefined {
    return this.#families.get(name);
  }

  /** The sample whose labels include `labels`; undefined when there is none. */
  sample(name: string, labels: Record<string, string> = {}): PrometheusSample | undefined {
    return this.#families
      .get(name)
      ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  }

  /** A counter's or gauge's value (0 when the series does not exist yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    return Number(this.sample(name, labels)?.value ?? 0);
  }

  /** A histogram's observation count (0 when the series does not exist yet). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(`${name}_count`, labels);
  }
}

/** GET /metrics with the given Authorization; asserts 200 and the exposition content type. */
export async function scrape(url: string, authorization?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers: authorization ? { authorization } : {} });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return new Scrape(text);
}
