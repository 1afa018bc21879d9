import { performance } from 'node:perf_hooks';

import type { Target } from './client.ts';
import { machineLoad } from './proc.ts';
import type { BenchOptions, Prepared, RowSpec, Sample, Scenario } from './scenario.ts';
import { median } from './stats.ts';

/** One row's outcome on one target. */
export interface Cell {
  value?: number;
  cpuMsPerOp?: number;
  /** Operations the CPU time was divided by (a zero CPU reading means under one 10 ms tick). */
  ops?: number;
  note?: string;
  error?: string;
  /** The server has no such thing to measure (RowSpec.notEverywhere). */
  absent?: string;
}

export interface RowResult extends RowSpec {
  scenario: string;
  cells: Record<string, Cell>;
  /** Machine load when the scenario ended (see machineLoad); absent on the RSS row. */
  load?: { loadAvg1: number; cpuWaitPct10s: number };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}

/** Reference first on even turns, the other side first on odd ones. */
function inTurn(targets: Target[], turn: number): Target[] {
  return turn % 2 === 0 ? targets : [...targets].reverse();
}

/** The untimed setup on each target; a target whose setup fails is entered in `failed`. */
async function prepareAll(
  scenario: Scenario,
  targets: Target[],
  options: BenchOptions,
  failed: Map<string, string>,
): Promise<Map<string, Prepared>> {
  const prepared = new Map<string, Prepared>();
  for (const target of targets) {
    log(`[${scenario.name}] preparing ${target.label}`);
    try {
      prepared.set(target.label, await scenario.prepare(target, options));
    } catch (error) {
      failed.set(target.label, `setup: ${errorText(error)}`);
      log(`[${scenario.name}] ${target.label} setup failed: ${errorText(error)}`);
    }
  }
  return prepared;
}

/**
 * Prepares the scenario on every target, then runs its repetitions, alternating which server goes
 * first. A failure on one server marks that server's cells and leaves the other one running.
 */
export async function runScenario(
  scenario: Scenario,
  targets: Target[],
  options: BenchOptions,
  turn: number,
): Promise<RowResult[]> {
  const startedAt = performance.now();
  const failed = new Map<string, string>();
  const samples = new Map<string, Record<string, Sample>[]>(targets.map((t) => [t.label, []]));
  const prepared = new Map<string, Prepared>();
  try {
    for (const [label, ready] of await prepareAll(scenario, inTurn(targets, turn), options, failed))
      prepared.set(label, ready);
    for (let rep = 0; rep < scenario.reps(options); rep++) {
      for (const target of inTurn(targets, turn + rep)) {
        const ready = prepared.get(target.label);
        if (!ready || failed.has(target.label)) continue;
        try {
          const got = await ready.measure(rep);
          samples.get(target.label)!.push(got);
          log(`[${scenario.name}] rep ${rep + 1} ${target.label}: ${summarize(got)}`);
        } catch (error) {
          failed.set(target.label, errorText(error));
          log(`[${scenario.name}] ${target.label} failed: ${errorText(error)}`);
        }
      }
    }
  } finally {
    await cleanUp(scenario, prepared);
  }
  const load = await machineLoad();
  const took = ((performance.now() - startedAt) / 1000).toFixed(1);
  log(
    `[${scenario.name}] done in ${took} s; load average ${load.loadAvg1}, CPU wait ${load.cpuWaitPct10s}% (10 s)`,
  );
  const cell = (key: string, label: string) => aggregate(key, samples.get(label)!, failed.get(label));
  const rowCell = (row: RowSpec, label: string): Cell => {
    const absent = row.notEverywhere !== undefined && !failed.has(label);
    if (absent && !samples.get(label)!.some((s) => s[row.key] !== undefined))
      return { absent: row.notEverywhere };
    return cell(row.key, label);
  };
  return scenario.rows(options).map((row) => ({
    ...row,
    scenario: scenario.name,
    load,
    cells: row.judgedSideOnly
      ? judgedSideCells(row.judgedSideOnly, targets, cell)
      : Object.fromEntries(targets.map((t) => [t.label, rowCell(row, t.label)])),
  }));
}

/** Both cells from the second (judged) target's samples: `first` in the first column, `second` in the second. */
function judgedSideCells(
  keys: { first: string; second: string },
  targets: Target[],
  cell: (key: string, label: string) => Cell,
): Record<string, Cell> {
  const [first, judged] = targets;
  if (!first || !judged) return {};
  return { [first.label]: cell(keys.first, judged.label), [judged.label]: cell(keys.second, judged.label) };
}

/** Runs every `close`, then `teardown`; a failing clean-up is logged, not thrown. */
async function cleanUp(scenario: Scenario, prepared: Map<string, Prepared>): Promise<void> {
  for (const [label, ready] of prepared) {
    await ready.close?.().catch((error: unknown) => {
      log(`[${scenario.name}] ${label} clean-up failed: ${errorText(error)}`);
    });
  }
  await scenario.teardown?.().catch((error: unknown) => {
    log(`[${scenario.name}] teardown failed: ${errorText(error)}`);
  });
}

function summarize(got: Record<string, Sample>): string {
  return Object.entries(got)
    .map(([key, s]) => `${key}=${s.value.toFixed(1)}`)
    .join(' ');
}

/** Median value over repetitions; CPU per op as total CPU over total ops. */
function aggregate(key: string, reps: Record<string, Sample>[], error: string | undefined): Cell {
  const mine = reps.map((r) => r[key]).filter((s): s is Sample => s !== undefined);
  if (mine.length === 0) return { error: error ?? 'no samples' };
  const ops = mine.reduce((sum, s) => sum + s.ops, 0);
  const cpu = mine.reduce((sum, s) => sum + s.cpuMs, 0);
  const cell: Cell = {
    value: median(mine.map((s) => s.value)),
    ops,
    cpuMsPerOp: ops > 0 ? cpu / ops : undefined,
  };
  const note = mine.at(-1)?.note;
  if (note) cell.note = note;
  if (error) cell.error = `after ${mine.length} rep(s): ${error}`;
  return cell;
}
