import type { Command } from 'commander';
import type { GateResult, PromotionRecord } from '../meta/promotion-records.ts';
import type { PromotionResult } from '../promote/promotion-service.ts';
import { CliError, clientFor, EXIT } from './api-client.ts';
import { collect, print, printJson, printTable } from './output.ts';

/** `gantry promote`, `gantry promotions`, `gantry approve`, `gantry check`. */
export function registerPromotionCommands(program: Command): void {
  program
    .command('promote <source>')
    .description(
      'promote <repository>/<image>:<tag> (or @<digest>) into another repository, by metadata only',
    )
    .requiredOption('--to <repository>', 'target repository')
    .option('--image <name>', 'image name in the target (default: the same)')
    .option('--tag <tag>', 'tag to set in the target (repeatable; default: the source tag)', collect)
    .option('--move', 'remove it from the source in the same transaction')
    .option('--comment <text>', 'why, for the history')
    .option('--dry-run', 'evaluate the gates and report, without promoting')
    .option('--json', 'print JSON')
    .action(
      async (source: string, o: Record<string, string | string[] | boolean | undefined>, cmd: Command) => {
        const body = {
          source,
          target: { repository: o.to, ...(o.image ? { image: o.image } : {}) },
          ...(o.tag ? { tags: o.tag } : {}),
          mode: o.move ? 'move' : 'copy',
          ...(o.comment ? { comment: o.comment } : {}),
          dryRun: o.dryRun === true,
        };
        const result = await clientFor(cmd).request<PromotionResult>('POST', '/api/v1/promotions', body);
        // A dry run that would be refused did not pass (a real refusal is a 409, so exits 1 too).
        if (!result.promoted) process.exitCode = EXIT.notPassed;
        if (o.json) return printJson(result);
        const what = `${result.source.repository}/${result.source.image}@${result.digest}`;
        const where = `${result.target.repository}/${result.target.image}`;
        if (result.dryRun)
          print(`${result.promoted ? 'would promote' : 'would be refused:'} ${what} → ${where}`);
        else print(`promoted ${what} → ${where} (${result.mode})`);
        printGates(result.gates);
        for (const t of result.tags)
          print(`tag ${t.tag}${t.previousDigest ? ` (was ${t.previousDigest})` : ''}`);
        for (const f of result.floating) print(`floating tag ${f.tag} → ${f.digest}`);
      },
    );

  program
    .command('promotions')
    .description('promotion history, newest first')
    .option('--image <name>', 'only this image (source or target)')
    .option('--digest <digest>', 'only this digest: how it reached where it is')
    .option('--repository <key>', 'only promotions from or into this repository')
    .option('--limit <n>', 'at most this many (default 100)')
    .option('--json', 'print JSON')
    .action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const q = new URLSearchParams();
      for (const k of ['image', 'digest', 'repository', 'limit'])
        if (typeof o[k] === 'string') q.set(k, o[k] as string);
      const { promotions } = await clientFor(cmd).request<{ promotions: PromotionRecord[] }>(
        'GET',
        `/api/v1/promotions?${q}`,
      );
      if (o.json) return printJson(promotions);
      printTable(
        ['TIME', 'ACTOR', 'FROM', 'TO', 'DIGEST', 'TAGS', 'MODE', 'OUTCOME'],
        promotions.map((p) => [
          p.at,
          p.actor,
          `${p.sourceRepository}/${p.sourceImage}`,
          `${p.targetRepository}/${p.targetImage}`,
          p.digest.slice(0, 19),
          p.tags.join(','),
          p.mode,
          p.outcome,
        ]),
      );
    });

  program
    .command('approve <digest>')
    .description('approve a digest for promotion into a repository (or withdraw an approval)')
    .requiredOption('--for <repository>', 'the repository the approval lets it into')
    .option('--comment <text>', 'why')
    .option('--withdraw', 'withdraw the approval instead (yours, or --approver’s with manage)')
    .option('--approver <user>', 'with --withdraw: whose approval')
    .action(async (digest: string, o: ApproveOptions, cmd: Command) => {
      if (o.withdraw) {
        const query = new URLSearchParams({ digest, repository: o.for });
        if (o.approver) query.set('approver', o.approver);
        await clientFor(cmd).request('DELETE', `/api/v1/approvals?${query}`);
        return print(
          `withdrew ${o.approver ? `${o.approver}'s` : 'your'} approval of ${digest} for ${o.for}`,
        );
      }
      if (o.approver)
        throw new CliError('--approver goes with --withdraw; an approval is always given as yourself');
      await clientFor(cmd).request('POST', '/api/v1/approvals', {
        digest,
        repository: o.for,
        comment: o.comment ?? '',
      });
      print(`approved ${digest} for ${o.for}`);
    });

  program
    .command('check <image>')
    .description('the image checklist of <repository>/<image>@<digest> (or :<tag>)')
    .option('--json', 'print JSON')
    .action(async (ref: string, o: { json?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const { repository, image, reference } = splitRef(ref);
      const digest = reference.startsWith('sha')
        ? reference
        : await resolveTag(client, repository, image, reference);
      const result = await client.request<{
        verdict: string;
        results: { check: string; status: string; reason: string }[];
      }>('GET', `/api/v1/repositories/${repository}/images/${image}/manifests/${digest}/checklist`);
      // Warnings pass: only a failing check makes the verdict (and the exit code) a failure.
      if (result.verdict === 'fail') process.exitCode = EXIT.notPassed;
      if (o.json) return printJson(result);
      printTable(
        ['CHECK', 'RESULT', 'WHY'],
        result.results.map((r) => [r.check, r.status, r.reason]),
      );
      print(`verdict: ${result.verdict}`);
    });
}

function printGates(gates: readonly GateResult[]): void {
  for (const g of gates) print(`${g.passed ? 'pass' : 'FAIL'}  ${g.gate}: ${g.reason}`);
}

function splitRef(ref: string): { repository: string; image: string; reference: string } {
  const slash = ref.indexOf('/');
  const at = ref.lastIndexOf('@');
  const colon = ref.lastIndexOf(':');
  const cut = at >= 0 ? at : colon > slash ? colon : -1;
  return {
    repository: ref.slice(0, slash),
    image: ref.slice(slash + 1, cut < 0 ? ref.length : cut),
    reference: cut < 0 ? 'latest' : ref.slice(cut + 1),
  };
}

/** A tag's digest through the registry API (HEAD), with the CLI's credentials. */
async function resolveTag(
  client: ReturnType<typeof clientFor>,
  repository: string,
  image: string,
  tag: string,
): Promise<string> {
  const { digest } = await client.request<{ digest: string }>(
    'GET',
    `/api/v1/repositories/${repository}/images/${image}/tags/${tag}`,
  );
  return digest;
}

interface ApproveOptions {
  for: string;
  comment?: string;
  withdraw?: boolean;
  approver?: string;
}
