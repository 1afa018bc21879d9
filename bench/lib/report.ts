import type { Cell, RowResult } from './runner.ts';

export interface Report {
  date: string;
  /** Wall time of the whole run, servers' start and stop included. */
  seconds: number;
  quick: boolean;
  node: string;
  cpus: number;
  loadGenerator: string;
  /** Column order: the yardstick first, the server being judged second. */
  sides: [string, string];
  rows: ReportRow[];
}

export interface ReportRow extends RowResult {
  ratio?: number;
  /** Per server, value / the value of the row's `baseline` row on the same server. */
  relative?: Record<string, number>;
}

function num(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toFixed(digits);
}

/** >1 means the second side did better, whichever direction the unit runs. */
export function ratio(row: RowResult, sides: [string, string]): number | undefined {
  const a = row.cells[sides[0]]?.value;
  const b = row.cells[sides[1]]?.value;
  if (a === undefined || b === undefined || a === 0 || b === 0) return undefined;
  return row.higherIsBetter ? b / a : a / b;
}

/** Each server's value over its value in the `baseline` row of the same scenario (RowSpec.baseline). */
export function relative(row: RowResult, rows: readonly RowResult[]): Record<string, number> | undefined {
  if (row.baseline === undefined) return undefined;
  const base = rows.find((r) => r.scenario === row.scenario && r.key === row.baseline);
  if (!base) return undefined;
  const out: Record<string, number> = {};
  for (const [side, cell] of Object.entries(row.cells)) {
    const b = base.cells[side]?.value;
    if (cell.value !== undefined && b !== undefined && b !== 0) out[side] = cell.value / b;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function valueCell(cell: Cell | undefined, rel: number | undefined): string {
  if (!cell) return '–';
  if (cell.absent) return 'n/a';
  if (cell.value === undefined) return `**failed**`;
  const value = cell.error ? `${num(cell.value)} (partial)` : num(cell.value);
  return rel === undefined ? value : `${value} (×${num(rel)})`;
}

export function markdown(report: Report): string {
  const [a, b] = report.sides;
  const lines = [
    `Gantry bench, ${report.date}${report.quick ? ' (--quick)' : ''}, ${report.seconds} s: node ${report.node}, ${report.cpus} cores, ` +
      `load generator ${report.loadGenerator} on the same cores. Ratio = ${b} relative to ${a}, >1 = ${b} better.`,
    '',
    `| Scenario | unit (better) | ${a} | ${b} | ratio | ${a} CPU ms/op | ${b} CPU ms/op |`,
    '|---|---|--:|--:|--:|--:|--:|',
  ];
  for (const row of report.rows) {
    const better = row.higherIsBetter ? 'higher' : 'lower';
    const cpu = (side: string) => {
      const cell = row.cells[side];
      const v = cell?.cpuMsPerOp;
      if (v === undefined) return '–';
      // CPU time comes in 10 ms ticks: zero means less than one tick over all the ops.
      if (v === 0 && cell?.ops) return `< ${num(10 / cell.ops)} /${row.op}`;
      return `${num(v)} /${row.op}`;
    };
    lines.push(
      `| ${row.label} | ${row.unit} (${better}) | ${valueCell(row.cells[a], row.relative?.[a])} | ` +
        `${valueCell(row.cells[b], row.relative?.[b])} | ` +
        `${num(row.ratio)} | ${cpu(a)} | ${cpu(b)} |`,
    );
  }
  lines.push('', ...notes(report));
  return lines.join('\n');
}

function notes(report: Report): string[] {
  const out: string[] = [];
  const busy = report.rows.filter((r) => r.load && r.load.loadAvg1 > report.cpus);
  const scenarios = [...new Set(busy.map((r) => `${r.scenario} (load ${r.load?.loadAvg1})`))];
  if (scenarios.length > 0) {
    out.push(
      `- **Machine busy** (1-min load average above ${report.cpus} cores) after: ${scenarios.join(', ')}.`,
    );
    out.push('  Wall-clock numbers there are skewed by other work; CPU ms/op much less so.');
  }
  const variants = new Map<string, string[]>();
  for (const row of report.rows) {
    if (row.baseline === undefined) continue;
    const base = `${row.scenario}\0${row.baseline}`;
    variants.set(base, [...(variants.get(base) ?? []), row.key]);
  }
  for (const [base, keys] of variants) {
    out.push(`- ${keys.join(', ')}: (×r) = relative to ${base.split('\0')[1]} on the same server.`);
  }
  for (const row of report.rows) {
    for (const side of report.sides) {
      const cell = row.cells[side];
      if (cell?.absent) out.push(`- ${row.key}, ${side}: n/a, ${cell.absent}`);
      if (cell?.note) out.push(`- ${row.key}, ${side}: ${cell.note}`);
      if (cell?.error) out.push(`- ${row.key}, ${side}: **${cell.error}**`);
    }
  }
  return out;
}
