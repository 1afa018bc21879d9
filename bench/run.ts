// Gantry next to the reference registry (CNCF distribution 2.8), same machine, same run:
//   node --import tsx bench/run.ts [--quick] [--only name,name] [--self-test]
// --self-test runs the reference on both sides (two processes) to check the bench itself and to
// show how much two identical servers differ by noise alone.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { keepAliveAgent, type Target } from './lib/client.ts';
import { peakRssMiB } from './lib/proc.ts';
import { markdown, type Report, ratio, relative } from './lib/report.ts';
import { type RowResult, runScenario } from './lib/runner.ts';
import type { Scenario } from './lib/scenario.ts';
import { type Server, startGantryServer, startReference } from './lib/servers.ts';
import { authOverhead } from './scenarios/auth-overhead.ts';
import { blobPullLarge } from './scenarios/blob-pull-large.ts';
import { blobPullSmall } from './scenarios/blob-pull-small.ts';
import { blobPushChunked, blobPushMonolithic } from './scenarios/blob-push.ts';
import { blobPushSmall } from './scenarios/blob-push-small.ts';
import { catalog } from './scenarios/catalog.ts';
import { manifestRead } from './scenarios/manifest-read.ts';
import { promotion } from './scenarios/promotion.ts';
import { remote } from './scenarios/remote.ts';
import { tagsList } from './scenarios/tags-list.ts';

const SCENARIOS: Scenario[] = [
  blobPushMonolithic,
  blobPushChunked,
  blobPullLarge,
  blobPullSmall,
  blobPushSmall,
  manifestRead,
  tagsList,
  catalog,
  remote,
  authOverhead,
  promotion,
];

const RESULTS_DIR = join(import.meta.dirname, 'results');

function parseCli() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'self-test': { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
    );
  }
  const scenarios = only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS;
  const complete = !values.quick && !values['self-test'] && only === undefined;
  return { quick: values.quick, selfTest: values['self-test'], scenarios, complete };
}

async function startSides(selfTest: boolean): Promise<{ servers: Server[]; targets: Target[] }> {
  const labels: [string, string] = selfTest ? ['reference', 'reference-b'] : ['reference', 'gantry'];
  const servers: Server[] = [];
  try {
    servers.push(await startReference());
    servers.push(selfTest ? await startReference() : await startGantryServer());
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
  const targets = servers.map((s, i) => ({
    label: labels[i]!,
    url: s.url,
    pid: s.pid,
    agent: keepAliveAgent(64),
  }));
  return { servers, targets };
}

function peakRssRow(peaks: Record<string, number>): RowResult {
  return {
    scenario: 'rss',
    key: 'peak-rss',
    label: 'Peak RSS of the server over the whole run (VmHWM)',
    unit: 'MiB',
    higherIsBetter: false,
    op: 'run',
    cells: Object.fromEntries(Object.entries(peaks).map(([side, value]) => [side, { value }])),
  };
}

async function main(): Promise<void> {
  const cli = parseCli();
  const startedAt = performance.now();
  const options = { quick: cli.quick };
  const { servers, targets } = await startSides(cli.selfTest);
  const rows: RowResult[] = [];
  const peaks: Record<string, number> = {};
  try {
    for (const [turn, scenario] of cli.scenarios.entries()) {
      rows.push(...(await runScenario(scenario, targets, options, turn)));
    }
    for (const t of targets) peaks[t.label] = await peakRssMiB(t.pid);
  } finally {
    for (const t of targets) t.agent.destroy();
    await Promise.all(servers.map((s) => s.stop()));
  }
  rows.push(peakRssRow(peaks));
  const sides: [string, string] = [targets[0]!.label, targets[1]!.label];
  const report: Report = {
    date: new Date().toISOString(),
    seconds: Math.round((performance.now() - startedAt) / 1000),
    quick: cli.quick,
    node: process.version,
    cpus: cpus().length,
    loadGenerator: 'node:http keep-alive',
    sides,
    rows: rows.map((row) => ({ ...row, ratio: ratio(row, sides), relative: relative(row, rows) })),
  };
  const table = `${markdown(report)}\n`;
  process.stdout.write(table);
  await mkdir(RESULTS_DIR, { recursive: true });
  // Only a complete run against Gantry replaces latest.*, the source for the project README.
  const base = cli.complete ? 'latest' : 'scratch';
  await writeFile(join(RESULTS_DIR, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(RESULTS_DIR, `${base}.md`), table);
}

await main();
