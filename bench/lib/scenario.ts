import type { Target } from './client.ts';
import { startCpuProbe } from './proc.ts';
import { timed } from './stats.ts';

export interface BenchOptions {
  quick: boolean;
}

/** One line of the result table. */
export interface RowSpec {
  key: string;
  label: string;
  unit: string;
  higherIsBetter: boolean;
  /** What one op is in the CPU-per-op column, e.g. 'push' or 'request'. */
  op: string;
  /**
   * A row about the judged (second) side alone: both cells come from its samples, the first
   * column from sample key `first`, the second from `second`, so the ratio compares the two.
   */
  judgedSideOnly?: { first: string; second: string };
  /**
   * Key of another row of the same scenario this one is a variant of (say, the same request
   * without credentials): the report prints each value relative to that row's value on the same
   * server, `value (×r)`.
   */
  baseline?: string;
  /**
   * Why a server may have nothing to measure here (the reference has no token server): a server
   * that produced no sample for the row, and did not fail, shows n/a with this reason.
   */
  notEverywhere?: string;
}

/** One repetition's measurement of one row on one target. */
export interface Sample {
  value: number;
  /** Operations done in the measured section (divides the server's CPU time). */
  ops: number;
  cpuMs: number;
  /** Something worth printing under the table, e.g. how a server paginated. */
  note?: string;
}

/** A scenario after its untimed setup on one target: call `measure` once per repetition. */
export interface Prepared {
  measure(rep: number): Promise<Record<string, Sample>>;
  /** Stops whatever `prepare` started for this target (called once, after the repetitions). */
  close?(): Promise<void>;
}

export interface Scenario {
  /** What `--only` matches. */
  name: string;
  rows(options: BenchOptions): RowSpec[];
  reps(options: BenchOptions): number;
  prepare(target: Target, options: BenchOptions): Promise<Prepared>;
  /** Stops what the scenario shares between targets (called once, after every `close`). */
  teardown?(): Promise<void>;
}

/** Wall time and the server's CPU time around `fn`. */
export async function measured<T>(
  target: Target,
  fn: () => Promise<T>,
): Promise<{ ms: number; cpuMs: number; result: T }> {
  const probe = await startCpuProbe(target.pid);
  const { ms, result } = await timed(fn);
  return { ms, cpuMs: await probe.stop(), result };
}

/** Image names live under Gantry's first repository, which is also a valid name for the reference. */
export function imageName(image: string): string {
  return `docker-dev-local/${image}`;
}
