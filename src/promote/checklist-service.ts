import type { MetadataStore } from '../meta/metadata-store.ts';
import type { Digest } from '../oci/digest.ts';
import type { MemberCheck, RepositoryService } from '../repos/repository-service.ts';
import { type CheckResult, evaluateChecklist } from './checklist.ts';
import { holderOf } from './holder.ts';
import type { ImageFacts } from './image-facts.ts';
import { policyOf } from './repository-policy.ts';
import { tagsOf } from './search-service.ts';
import { immutableRule } from './tag-rules.ts';

/** Gathers what the checklist needs about a digest held in a repository, and evaluates it. */
export class ChecklistService {
  constructor(
    private readonly meta: MetadataStore,
    private readonly repos: RepositoryService,
    private readonly facts: ImageFacts,
  ) {}

  async evaluate(where: { repository: string; image: string; digest: Digest }): Promise<CheckResult[]> {
    const repo = this.repos.get(where.repository);
    const policy = repo ? policyOf(repo) : undefined;
    const tags = await tagsOf(this.meta, where.repository, where.image, where.digest);
    const rules = policy?.tags;
    const immutableTags = rules
      ? tags.flatMap((tag) => {
          const rule = immutableRule(rules, tag);
          return rule ? [{ tag, rule }] : [];
        })
      : [];
    const builds = (await this.meta.builds.byDigest(where.digest)).map((b) => `${b.name} #${b.number}`);
    return evaluateChecklist({
      images: await this.facts.images(where.digest),
      immutableTags,
      builds,
      limits: policy?.limits ?? { maxLayers: 50, maxSizeBytes: 2 * 1024 ** 3 },
    });
  }

  /**
   * The local or remote repository holding the digest under the name: the repository itself,
   * or for a virtual one its first member that holds it. Undefined when none does.
   */
  async holder(
    where: { repository: string; image: string; digest: Digest },
    readable: MemberCheck,
  ): Promise<string | undefined> {
    const repository = this.repos.get(where.repository);
    if (!repository) return undefined;
    return (await holderOf(this.meta, this.repos, { ...where, repository }, readable))?.repository.key;
  }
}
