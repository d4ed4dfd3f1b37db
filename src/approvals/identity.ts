/** Who is deciding when `--by` is not given: the CI actor in CI, otherwise the OS user. */
import { userInfo } from 'node:os';

/** The CI actor variables Tollgate reads, in order (GitHub Actions, GitLab CI, Buildkite). */
export const CI_ACTOR_VARIABLES = ['GITHUB_ACTOR', 'GITLAB_USER_LOGIN', 'BUILDKITE_BUILD_CREATOR'] as const;

/** The default identity: in CI (CI set and not "false"/"0") the first CI actor set, else the OS user; undefined if neither is known. */
export function defaultIdentity(
  env: NodeJS.ProcessEnv = process.env,
  osUser: () => string = () => userInfo().username,
): string | undefined {
  if (env.CI && !['false', '0'].includes(env.CI.toLowerCase())) {
    const actor = CI_ACTOR_VARIABLES.map((name) => env[name]?.trim()).find(Boolean);
    if (actor) return actor;
  }
  try {
    return osUser().trim() || undefined;
  } catch {
    // No passwd entry for this uid (some containers): no OS user to fall back on.
    return undefined;
  }
}
