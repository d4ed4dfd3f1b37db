/**
 * Values that look like credentials, masked wherever Tollgate prints an error: a pasted key shows
 * its kind and at most its last four characters (`sk_live_…9f3a`), never the rest, so a config
 * error in a CI log cannot leak the key it complains about. Pure: the workflow bundle may use it.
 */

/** Known credential prefixes: Stripe secret, restricted and webhook keys; GitHub, GitLab and Slack tokens; AWS key ids. */
const CREDENTIAL =
  /\b(sk_live_|sk_test_|rk_live_|rk_test_|whsec_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|xox[abprs]-|AKIA)([A-Za-z0-9_-]+)/g;

/** `text` with every credential-looking value replaced by its kind and (when long enough) its last four characters. */
export function maskSecretLike(text: string): string {
  return text.replace(
    CREDENTIAL,
    (_match, kind: string, rest: string) => `${kind}…${rest.length >= 12 ? rest.slice(-4) : ''}`,
  );
}
