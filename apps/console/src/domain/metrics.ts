export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PipelineSample {
  at: string;
  statP99: number | null;
  statLag: number;
  totalLag: number;
}

/** Prometheus text exposition → samples (comments skipped). */
export function parsePrometheus(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    const value = Number(m[4]);
    if (Number.isFinite(value) || m[4] === '+Inf') out.push({ name: m[1], labels, value });
  }
  return out;
}

/** Sum of a metric's samples whose labels include `where`; null when the metric is absent. */
export function sumWhere(samples: MetricSample[], name: string, where: Record<string, string>): number | null {
  const hits = samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v));
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : null;
}

/** Quantile from cumulative histogram buckets (summed across other labels), as Prometheus' histogram_quantile. */
export function histogramQuantile(q: number, buckets: MetricSample[]): number | null {
  if (!buckets.length) return null;
  const byLe = new Map<number, number>();
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + b.value);
  }
  const sorted = [...byLe.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1][1];
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(count - prevCount, 1e-9));
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** Fixed-size ring buffer (the last hour of pipeline samples). */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }
  all(): T[] {
    return [...this.items];
  }
}
