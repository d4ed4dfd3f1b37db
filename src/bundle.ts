/** Prebuilds the workflow bundles at build time, so a worker starts without running webpack. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './codec/codec.js';

/** Where the prebuilt bundle lives, next to the compiled sources. */
export const WORKFLOW_BUNDLE_PATH = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/** The bundle for encrypted runs: the same workflows with the failure converter that encodes messages. */
export const ENCRYPTED_WORKFLOW_BUNDLE_PATH = fileURLToPath(
  new URL('../workflow-bundle.encrypted.js', import.meta.url),
);

/** The workflows' entry module (compiled). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.js', import.meta.url));

/** The prebuilt bundle that matches a data converter (the failure converter is compiled into the bundle). */
export function workflowBundlePath(dataConverter?: DataConverter): string {
  return dataConverter?.failureConverterPath === FAILURE_CONVERTER_PATH
    ? ENCRYPTED_WORKFLOW_BUNDLE_PATH
    : WORKFLOW_BUNDLE_PATH;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, failureConverterPath] of [
    [WORKFLOW_BUNDLE_PATH, undefined],
    [ENCRYPTED_WORKFLOW_BUNDLE_PATH, FAILURE_CONVERTER_PATH],
  ] as const) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: new DefaultLogger('WARN'),
      ...(failureConverterPath ? { failureConverterPath } : {}),
    });
    writeFileSync(path, code);
    console.log(`workflow bundle written to ${path} (${(code.length / 1024).toFixed(0)} KB)`);
  }
}
