/**
 * The stage plans, from plans.json beside dagger.json. The module loads only its own directory, so
 * it cannot import the repo's config; `tollgate plans > dagger/plans.json` writes this file
 * from tollgate.config.ts, and the workflow reads the same config: one list of commands.
 */
import { readFileSync } from 'node:fs';

/** One command of a stage (the StepPlan of src/types.ts). */
export interface ModuleStepPlan {
  run: string[];
  env: Record<string, string>;
}

/** The fields of src/types.ts StagePlan the module uses (typecheck/plan-compat.ts keeps them in step). */
export interface ModuleStagePlan {
  name: string;
  /** The stages that must pass before this one starts. */
  needs: string[];
  image: string;
  steps: ModuleStepPlan[];
  env: Record<string, string>;
  secrets: string[];
  cache: boolean;
  coverageMinimum?: number;
  artifact?: {
    include: string[];
    install: string[];
    sbom: string[];
    runtimeImage?: string;
    /** The repository the config's docker environments pull from (`docker.registry`). */
    publishTo?: string;
  };
  /** Services bound beside the steps (the ServicePlan of src/types.ts). */
  services?: { name: string; image: string; port: number; env: Record<string, string> }[];
}

/** What `tollgate plans` prints. */
export interface ModulePlans {
  app: string;
  /** The app's source, relative to the repository root (the `source` argument). */
  source: string;
  stages: ModuleStagePlan[];
}

const PLANS_FILE = new URL('../plans.json', import.meta.url);

/** All plans; fails with the command that regenerates the file when it is missing or malformed. */
export function stagePlans(): ModulePlans {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(PLANS_FILE, 'utf8'));
  } catch (error) {
    throw new Error(
      `cannot read dagger/plans.json (${String(error)}): run \`tollgate plans > dagger/plans.json\``,
    );
  }
  const plans = parsed as Partial<ModulePlans>;
  if (typeof plans.source !== 'string' || !Array.isArray(plans.stages)) {
    throw new Error('dagger/plans.json is not `tollgate plans` output: regenerate it');
  }
  return plans as ModulePlans;
}

/** One stage's plan by name. */
export function stagePlan(name: string): ModuleStagePlan {
  const plan = stagePlans().stages.find((stage) => stage.name === name);
  if (!plan) throw new Error(`dagger/plans.json has no stage ${name}: is it in tollgate.config.ts?`);
  return plan;
}
