// env-ci 11 ships no type declarations; this is the part of its result Gantry reads.
declare module 'env-ci' {
  export interface CiContext {
    isCi: boolean;
    /** e.g. `github`, `gitlab`, `circleci`, `buildkite`; absent when no CI system is recognised. */
    service?: string;
    /** Human name of the CI system. */
    name?: string;
    commit?: string;
    build?: string;
    buildUrl?: string;
    branch?: string;
    job?: string;
    jobUrl?: string;
    /** `owner/repository` where the CI system says it. */
    slug?: string;
  }
  export default function envCi(options?: {
    env?: Record<string, string | undefined>;
    cwd?: string;
  }): CiContext;
}
