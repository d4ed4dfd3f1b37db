/** The coverage gate both runners and the Dagger module share. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkCoverage, parseLineCoverage } from '../../src/runners/coverage.js';

const ISTANBUL = `
----------|---------|----------|---------|---------|-------------------
File      | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s
----------|---------|----------|---------|---------|-------------------
All files |   93.75 |    83.33 |     100 |   92.5 |
 app.js   |   93.75 |    83.33 |     100 |   92.5 | 12
----------|---------|----------|---------|---------|-------------------
`;

const NODE_NATIVE = `
# start of coverage report
# ----------------------------------------------------------
# file         | line % | branch % | funcs % | uncovered lines
# ----------------------------------------------------------
# src/app.js   |  88.00 |    75.00 |  100.00 | 10-12
# ----------------------------------------------------------
# all files    |  88.00 |    75.00 |  100.00 |
# ----------------------------------------------------------
# end of coverage report
`;

void describe('coverage gate (contract)', () => {
  void it('reads the lines column of the istanbul/c8 text table', () => {
    assert.equal(parseLineCoverage(ISTANBUL), 92.5);
  });

  void it("reads node's native coverage table by its header", () => {
    assert.equal(parseLineCoverage(NODE_NATIVE), 88);
  });

  void it('reads the text-summary line and ignores colour codes', () => {
    assert.equal(
      parseLineCoverage('Statements   : 90% ( 9/10 )\n\u001b[32mLines        : 91.3% ( 21/23 )\u001b[0m\n'),
      91.3,
    );
    assert.equal(
      parseLineCoverage('\u001b[32mAll files\u001b[0m | 1 | 2 | 3 | \u001b[31m74.1\u001b[0m |'),
      74.1,
    );
  });

  void it('takes the last summary when the output holds several runs', () => {
    assert.equal(parseLineCoverage(`${NODE_NATIVE}\n${ISTANBUL}`), 92.5);
  });

  void it('passes at or above the minimum, fails below it and without any summary', () => {
    assert.equal(checkCoverage(ISTANBUL, 92.5), undefined);
    assert.match(checkCoverage(ISTANBUL, 95) ?? '', /92\.5% is below the 95% gate/);
    assert.match(checkCoverage('all tests passed', 90) ?? '', /no coverage summary/);
  });

  void it('is the same code the Dagger module runs (dagger/src/coverage.ts is a copy)', () => {
    const read = (path: string): string => readFileSync(join(process.cwd(), path), 'utf8');
    assert.equal(read('dagger/src/coverage.ts'), read('src/runners/coverage.ts'));
  });
});
