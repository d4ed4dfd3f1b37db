/**
 * The coverage gate: reads line coverage from a test run's text output. Dependency-free on purpose:
 * both runners use it, and dagger/src/coverage.ts is a byte copy of it (a contract test checks).
 */

// Colour codes would split the table cells; the first group is the CSI sequence, the second OSC.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]|\u001b\][^\u0007]*\u0007/g;
const TEXT_SUMMARY = /^\s*Lines\s*:\s*(\d+(?:\.\d+)?)\s*%/;

/**
 * Line coverage in percent from the last coverage summary in `output`, or undefined when none.
 * Reads the istanbul/c8 `text` table (`All files | stmts | branch | funcs | lines |`), node's
 * `--experimental-test-coverage` table (`# all files | line % | branch % | funcs % |`, where the
 * header gives the column) and the `text-summary` line (`Lines : 93.1% ( 27/29 )`).
 */
export function parseLineCoverage(output: string): number | undefined {
  let linesColumn = 4;
  let found: number | undefined;
  for (const raw of output.replace(ANSI, '').split(/\r?\n/)) {
    const line = raw.replace(/^#\s?/, '');
    const summary = TEXT_SUMMARY.exec(line);
    if (summary?.[1] !== undefined) {
      found = Number(summary[1]);
      continue;
    }
    if (!line.includes('|')) continue;
    const cells = line.split('|').map((cell) => cell.trim().toLowerCase());
    const header = cells.findIndex((cell) => cell.includes('%') && /\blines?\b/.test(cell));
    if (header >= 0) {
      linesColumn = header;
      continue;
    }
    if (cells[0] === 'all files') {
      const value = Number(cells[linesColumn]);
      if (cells[linesColumn] !== '' && Number.isFinite(value)) found = value;
    }
  }
  return found;
}

/**
 * Applies a minimum line coverage to a run's output: the shortfall message, or undefined when the
 * gate passes. No summary at all is a shortfall: a gate that cannot see coverage must not pass.
 */
export function checkCoverage(output: string, minimum: number): string | undefined {
  const lines = parseLineCoverage(output);
  if (lines === undefined) return `coverage gate of ${minimum}% set but the output has no coverage summary`;
  return lines < minimum ? `line coverage ${lines}% is below the ${minimum}% gate` : undefined;
}
