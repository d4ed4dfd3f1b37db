const STOP_WORDS = new Set(
  ('a an and are as at be by can do does for from has have how i in is it its of on or our ' +
    'should so than that the their them there these they this to was we what when where which ' +
    'who why will with you your about into more most much many any each per')
    .split(' '),
);

/** Lower-cases a token and drops stop words; returns null for tokens to skip. */
export function normalizeTerm(term: string): string | null {
  const lower = term.toLowerCase();
  return lower.length < 2 || STOP_WORDS.has(lower) ? null : lower;
}

/** Splits text into normalized, meaningful terms. */
export function terms(text: string): string[] {
  return text
    .split(/[^\p{L}\p{N}]+/u)
    .map(normalizeTerm)
    .filter((t): t is string => t !== null);
}

/** Splits a passage into sentences. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
