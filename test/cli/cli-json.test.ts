/**
 * The JSON shape family: every schema is documented in docs/cli-json.md, and the schemas refuse
 * what they must (the real outputs are checked against them in the end-to-end tests).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI_JSON_SCHEMAS, parseCliJson, type JsonCommand } from '../../src/cli/json-schemas.js';
import { ROOT } from '../support/temporal.js';

const DOC = readFileSync(join(ROOT, 'docs/cli-json.md'), 'utf8');

describe('docs/cli-json.md', () => {
  for (const command of Object.keys(CLI_JSON_SCHEMAS) as JsonCommand[]) {
    it(`documents ${command} and each of its fields`, () => {
      assert.ok(
        DOC.includes(`\`${command}\``) || DOC.includes(`### ${command}`),
        `${command} is not documented`,
      );
      for (const field of Object.keys(CLI_JSON_SCHEMAS[command].shape)) {
        assert.ok(DOC.includes(`\`${field}\``), `${command}.${field} is not documented`);
      }
    });
  }
});

describe('the schemas', () => {
  const promote = {
    schemaVersion: 1,
    command: 'promote',
    workflowId: 'release-app',
    runId: '0199b3c2-0000-7000-8000-000000000000',
    by: 'alice',
    accepted: true,
    action: 'promote',
    phase: 'awaiting-promotion',
    alreadyPromoted: null,
  };
  it('take a well-formed document, extra fields included', () => {
    assert.equal(parseCliJson('promote', JSON.stringify({ ...promote, later: 1 })).by, 'alice');
  });
  it('refuse a document without its runId, another version, or another outcome spelling', () => {
    const { runId: _runId, ...withoutRunId } = promote;
    assert.throws(() => parseCliJson('promote', JSON.stringify(withoutRunId)), /runId/);
    assert.throws(
      () => parseCliJson('promote', JSON.stringify({ ...promote, schemaVersion: 2 })),
      /schemaVersion/,
    );
    const run = {
      schemaVersion: 1,
      command: 'run',
      workflowId: 'w',
      runId: 'r',
      url: 'http://localhost:8233/x',
    };
    assert.equal(
      parseCliJson('run', JSON.stringify({ ...run, outcome: 'rolled-back' })).outcome,
      'rolled-back',
    );
    assert.throws(() => parseCliJson('run', JSON.stringify({ ...run, outcome: 'rolled back' })), /outcome/);
  });
});
