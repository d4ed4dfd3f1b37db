/**
 * The Temporal UI shows a release as the pipeline: headless Chromium (Debian's /usr/bin/chromium) finds a
 * finished fixture release by its search attributes, opens it, and sees its summary, details and stage
 * summaries; the screenshot is the one docs/ui.md shows.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workflowMetadataQuery } from '@temporalio/workflow';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ReleaseResult } from '../../src/types.js';
import type { ReleaseWorkflow } from '../../src/workflows/release/index.js';
import { initialSearch, SEARCH_KEYS, searchAttributePairs } from '../../src/workflows/ui.js';
import { releaseInput, shStage } from '../support/stages.js';
import { createTestWorker, ROOT, startTestServer, tempDir, uniqueIds } from '../support/temporal.js';

const CHROMIUM = '/usr/bin/chromium';
// The docs' screenshots are refreshed on request (UPDATE_SCREENSHOTS=1); other runs write to a temp dir.
const IMAGES =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? join(ROOT, 'docs/img')
    : mkdtempSync(join(tmpdir(), 'tollgate-ui-'));
const SCREENSHOT = join(IMAGES, 'temporal-ui-release.png');
const missing = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the UI test`;
// On a developer's machine a missing browser skips the test; in CI it is a failure, never a quiet skip.
if (missing && process.env.CI === 'true') {
  void describe('the Temporal UI', () => {
    void it('needs Chromium in CI', () => assert.fail(`${missing} (.ci/run installs it)`));
  });
}
const skip = missing ?? false;

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until one of the page's frames shows `text`. */
async function frameShowing(page: Page, text: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames().slice(1)) {
      const shown = await frame
        .locator('body')
        .innerText()
        .catch(() => '');
      if (shown.replace(/\s+/g, ' ').includes(text)) return;
    }
    if (Date.now() > deadline) assert.fail(`no frame of ${page.url()} shows "${text}"`);
    await page.waitForTimeout(250);
  }
}

describe('the Temporal UI', { skip }, () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  let uiPort: number;
  const { taskQueue, workflowId } = uniqueIds('ui');
  const dir = tempDir('ui');
  // A pipeline of the user's own: five stages, two of them in parallel (no sample names at all).
  const input = releaseInput(dir, [
    shStage('install', 'echo installed'),
    shStage('lint', 'echo linted', { needs: ['install'] }),
    shStage('unit-tests', 'echo tested', { needs: ['install'] }),
    shStage('integration-tests', 'echo integrated', { needs: ['unit-tests'] }),
    shStage('package', 'echo packed', { needs: ['lint', 'integration-tests'] }),
  ]);
  const commit = input.source.commit;
  const summary = `Release ${input.app} @ ${commit.slice(0, 12)}`;
  let result: ReleaseResult;

  before(async () => {
    uiPort = await freePort();
    env = await startTestServer({ ui: true, uiPort });
    worker = await createTestWorker(env, taskQueue, tempDir('ui-home'));
    running = worker.run();
    // Started as `tollgate run` starts it: static summary and details, and the search attributes.
    result = await env.client.workflow.execute<ReleaseWorkflow>('releasePipeline', {
      taskQueue,
      workflowId,
      args: [input],
      staticSummary: summary,
      staticDetails: `**app** ${input.app} · **commit** \`${commit}\` · **requested by** ${input.requestedBy}`,
      typedSearchAttributes: searchAttributePairs(initialSearch(input)),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });

  after(async () => {
    await browser?.close();
    // The worker stays up while the browser looks: the UI asks it for the run's current details.
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  it('records the outcome, stage and environment as search attributes', async () => {
    assert.equal(result.outcome, 'succeeded');
    const attributes = (await env.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes;
    assert.equal(attributes.get(SEARCH_KEYS.app), 'fixture');
    assert.equal(attributes.get(SEARCH_KEYS.revision), commit);
    assert.equal(attributes.get(SEARCH_KEYS.tree), input.source.tree);
    assert.equal(attributes.get(SEARCH_KEYS.stage), 'package');
    assert.equal(attributes.get(SEARCH_KEYS.environment), '');
    assert.equal(attributes.get(SEARCH_KEYS.outcome), 'succeeded');
    const found: string[] = [];
    for await (const run of env.client.workflow.list({
      query: 'TollgateApp="fixture" AND TollgateOutcome="succeeded" AND TollgateEnvironment=""',
    })) {
      found.push(run.workflowId);
    }
    assert.deepEqual(found, [workflowId]);
  });

  it('keeps current details for the UI', async () => {
    const metadata = await env.client.workflow.getHandle(workflowId).query(workflowMetadataQuery);
    const details = metadata.currentDetails ?? '';
    assert.ok(details.includes(`### fixture @ \`${commit.slice(0, 12)}\``), details);
    assert.match(details, /\*\*outcome\*\* succeeded/);
    for (const plan of input.stages)
      assert.match(details, new RegExp(`✓ ${plan.name} — `), `${plan.name} in the details`);
    assert.ok(details.includes(`**Source** \`${commit}\``), 'the details name the commit');
  });

  it('finds the release by search attribute and shows its summary, details and stage summaries', async () => {
    const page: Page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    try {
      mkdirSync(IMAGES, { recursive: true });
      const query = 'TollgateApp="fixture" AND TollgateOutcome="succeeded"';
      await page.goto(
        `http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${encodeURIComponent(query)}`,
      );
      const link = page.getByRole('link', { name: workflowId }).first();
      await link.waitFor({ timeout: 30_000 });
      await page.screenshot({ path: join(IMAGES, 'temporal-ui-search.png') });

      await link.click();
      // The timeline labels each activity with its summary: the stage's name.
      for (const plan of input.stages) {
        await page.getByText(`runStage • ${plan.name}`).first().waitFor({ timeout: 30_000 });
      }
      await page.screenshot({ path: join(IMAGES, 'temporal-ui-timeline.png') });

      await page
        .getByRole('tab', { name: 'User Metadata' })
        .or(page.getByRole('link', { name: 'User Metadata' }))
        .first()
        .click();
      for (const plan of input.stages) {
        await page.getByText(plan.name, { exact: true }).first().waitFor({ timeout: 15_000 });
      }
      // Summary, details and current details are markdown the UI renders in frames of their own.
      await frameShowing(page, summary);
      await frameShowing(page, 'phase succeeded · stage package');
      await page.screenshot({ path: SCREENSHOT });
    } finally {
      await page.close();
    }
  });
});
