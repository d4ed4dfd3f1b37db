/**
 * Child process for the D105 contract test: runs a stage against a Dagger CLI that cannot start a
 * session, waits for the SDK's stray rejection to surface, and prints the outcome as JSON. Without
 * the guard, Node would exit on that rejection before the last line is printed.
 */
import { DaggerRunner } from '../../src/runners/dagger.js';
import { StageError } from '../../src/runners/errors.js';
import { stageContext, testPlan } from './dagger-fixtures.js';

void (async () => {
  let type = 'passed';
  try {
    await new DaggerRunner().runStage(testPlan(), stageContext());
  } catch (error) {
    type = error instanceof StageError ? error.type : String(error);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.stdout.write(`${JSON.stringify({ type, alive: true })}\n`);
})();
