import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Digest } from '../../oci/digest.ts';
import type { BuildRecord } from '../promotion-records.ts';
import type { BuildMeta } from '../promotion-store.ts';
import type { BuildsTable, Database } from '../schema.ts';
import { chunks, type QueryContext, translateWith } from './context.ts';
import { appendEvents } from './outbox.ts';
import { fromBuild, toBuild } from './rows.ts';

// Reads take several statements (the build, its artifacts, its dependencies), so they run in a
// transaction: a concurrent put is seen whole or not at all.

export class KyselyBuildMeta implements BuildMeta {
  constructor(private readonly ctx: QueryContext) {}

  /** The builds primary key refuses a recorded number: MetaConflictError, nothing written. */
  async create(record: BuildRecord): Promise<void> {
    const { build, artifacts, dependencies } = fromBuild(record);
    const on = { conflict: `build ${record.name} #${record.number}`, foreignKey: async (e: unknown) => e };
    await translateWith(this.ctx, on, () =>
      this.ctx.db.transaction().execute(async (trx) => {
        await trx.insertInto('builds').values(build).execute();
        for (const part of chunks(artifacts)) await trx.insertInto('build_artifacts').values(part).execute();
        for (const part of chunks(dependencies)) {
          await trx.insertInto('build_dependencies').values(part).execute();
        }
        const data = {
          name: record.name,
          number: record.number,
          vcsUrl: record.vcsUrl,
          vcsRevision: record.vcsRevision,
          branch: record.branch,
          artifacts: record.artifacts,
          publishedBy: record.publishedBy,
        };
        const event = { type: 'io.gantry.build.published' as const, actor: record.publishedBy, data };
        await appendEvents(trx, this.ctx.now().toISOString(), [
          { ...event, subject: `builds/${record.name}` },
        ]);
      }),
    );
  }

  async delete(name: string, number: string): Promise<boolean> {
    return this.ctx.db.transaction().execute((trx) => deleteBuild(trx, name, number));
  }

  async get(name: string, number: string): Promise<BuildRecord | undefined> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('builds')
        .selectAll()
        .where('name', '=', name)
        .where('number', '=', number)
        .executeTakeFirst();
      return row && (await withChildren(trx, [row]))[0];
    });
  }

  /** Newest `publishedAt` first; builds published at the same time by name, then number. */
  async list(options: { name?: string; limit: number }): Promise<BuildRecord[]> {
    return this.ctx.db.transaction().execute(async (trx) => {
      let query = newestFirst(trx).limit(options.limit);
      if (options.name !== undefined) query = query.where('name', '=', options.name);
      return withChildren(trx, await query.execute());
    });
  }

  async byDigest(digest: Digest): Promise<BuildRecord[]> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const rows = await newestFirst(trx)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('build_artifacts as a')
              .select('a.digest')
              .whereRef('a.build_name', '=', 'builds.name')
              .whereRef('a.build_number', '=', 'builds.number')
              .where('a.digest', '=', digest),
          ),
        )
        .execute();
      return withChildren(trx, rows);
    });
  }
}

function newestFirst(db: Kysely<Database>) {
  return db
    .selectFrom('builds')
    .selectAll()
    .orderBy('published_at', 'desc')
    .orderBy('name')
    .orderBy('number');
}

async function deleteBuild(trx: Kysely<Database>, name: string, number: string): Promise<boolean> {
  for (const table of ['build_artifacts', 'build_dependencies'] as const) {
    await trx.deleteFrom(table).where('build_name', '=', name).where('build_number', '=', number).execute();
  }
  const result = await trx
    .deleteFrom('builds')
    .where('name', '=', name)
    .where('number', '=', number)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The records of the build rows, in their order, with artifacts and dependencies in list order. */
async function withChildren(
  trx: Kysely<Database>,
  builds: readonly Selectable<BuildsTable>[],
): Promise<BuildRecord[]> {
  const key = (name: string, number: string) => JSON.stringify([name, number]);
  const artifacts = new Map<string, { digest: string; name: string }[]>();
  const dependencies = new Map<string, { name: string; version: string; digest: string | null }[]>();
  for (const b of builds) {
    artifacts.set(key(b.name, b.number), []);
    dependencies.set(key(b.name, b.number), []);
  }
  // (build_name, build_number) IN ((?, ?), …): one range of each child's primary key per build.
  for (const part of chunks(builds)) {
    const ofBuilds = (eb: ExpressionBuilder<Database, 'build_artifacts' | 'build_dependencies'>) =>
      eb(
        eb.refTuple('build_name', 'build_number'),
        'in',
        part.map((b) => eb.tuple(b.name, b.number)),
      );
    const artifactRows = await trx
      .selectFrom('build_artifacts')
      .select(['build_name', 'build_number', 'digest', 'name'])
      .where(ofBuilds)
      .orderBy('position')
      .execute();
    for (const { build_name, build_number, ...artifact } of artifactRows) {
      artifacts.get(key(build_name, build_number))?.push(artifact);
    }
    const dependencyRows = await trx
      .selectFrom('build_dependencies')
      .select(['build_name', 'build_number', 'name', 'version', 'digest'])
      .where(ofBuilds)
      .orderBy('position')
      .execute();
    for (const { build_name, build_number, ...dependency } of dependencyRows) {
      dependencies.get(key(build_name, build_number))?.push(dependency);
    }
  }
  return builds.map((b) =>
    toBuild(b, artifacts.get(key(b.name, b.number)) ?? [], dependencies.get(key(b.name, b.number)) ?? []),
  );
}
