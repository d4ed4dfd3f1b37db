/** The Dagger runner: a stage plan as containers on a Dagger engine, with the host runner's result shape. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Client } from '@dagger.io/dagger';
import type { ImageUse } from '../config/images.js';
import { DEFAULT_IMAGES } from '../constants.js';
import { FailureType } from '../failures.js';
import type { ArtifactPlan, ArtifactRef, CommandPlan, StageResult } from '../types.js';
import { checkCoverage, parseLineCoverage } from './coverage.js';
import { classifyDaggerError, type DaggerFailure } from './dagger-errors.js';
import { containerEnv, INSTALL_INPUT_FILES, installInputs, splitInstall } from './dagger-plan.js';
import { shipImage, slimVariant } from './dagger-image.js';
import { imageTag, releaseAddress } from './dagger-publish.js';
import {
  installDependencies,
  resolveImages,
  runSteps,
  stageContainers,
  type StepReporter,
} from './dagger-pipeline.js';
import { loadDaggerSdk, prepareEngine, withDaggerSession, type DaggerSdk } from './dagger-session.js';
import { StageError } from './errors.js';
import { releasePaths, StageCancelledError } from './host.js';
import { passedResult, redact, StageOutput } from './output.js';
import { servedFromCache, type CacheHit } from './stage-cache.js';
import type { Runner, StageRunContext } from './types.js';

/** Settings of the Dagger runner; the build settings may also come from TOLLGATE_* env (see settingOf). */
export interface DaggerRunnerOptions {
  /** The Dagger CLI to start sessions with; by default the one detectDagger finds. */
  cliBin?: string;
  /** Receives the Dagger CLI's own progress output (debugging). */
  logOutput?: Writable;
  /** Where TOLLGATE_IMAGE_REF, TOLLGATE_SCAN_SEVERITY, TOLLGATE_REVISION, TOLLGATE_DAGGER_CONNECT_TIMEOUT_MS are read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Registry reference to publish the build image to (TOLLGATE_IMAGE_REF). */
  imageRef?: string;
  /** Trivy severities that fail the build, e.g. `HIGH,CRITICAL` (TOLLGATE_SCAN_SEVERITY); unset: no scan. */
  scanSeverity?: string;
  /** Runtime base image when the plan names none (plans from before config `images`); default: the `-slim` variant. */
  runtimeImage?: string;
  /** What the image runs (TOLLGATE_START_COMMAND, space-separated); default `npm start`. */
  startCommand?: string[];
  /** The scanner image when the plan names none (plans from before config `images`). */
  scanImage?: string;
  /** A PEM file of CA certificates the containers trust besides their own (TOLLGATE_EXTRA_CA_CERTS). */
  extraCaCerts?: string;
  /** Deadline for reaching the engine, in ms (default DEFAULT_CONNECT_TIMEOUT_MS; TOLLGATE_DAGGER_CONNECT_TIMEOUT). */
  connectTimeoutMs?: number;
  /** How often a quiet step reports that it is still running; default 10 s. */
  progressIntervalMs?: number;
}

interface Execution {
  transcript: string;
  stepCount: number;
  failure?: DaggerFailure;
  artifact?: ArtifactRef;
  /** The stage result cache had the result: nothing ran. */
  reused?: CacheHit;
}

/** Runs stage plans in containers: one `withExec` per step, the build stage as a multi-stage image. */
export class DaggerRunner implements Runner {
  readonly kind = 'dagger' as const;

  constructor(private readonly options: DaggerRunnerOptions = {}) {}

  /** Runs the plan in one Dagger session of its own; throws StageError on failure. */
  async runStage(plan: CommandPlan, ctx: StageRunContext): Promise<StageResult> {
    const started = new Date();
    const logPath = join(ctx.runDir, `${plan.name}.log`);
    mkdirSync(ctx.runDir, { recursive: true });
    const output = new StageOutput(logPath, ctx.secrets, ctx.onProgress, ctx.onOutput);
    output.note(`[tollgate] ${plan.name} attempt ${ctx.attempt} in Dagger (${plan.image})`);
    const fail = async (failure: DaggerFailure, cause?: unknown): Promise<never> => {
      if (failure.output) output.write(failure.output);
      const message = redact(failure.message, ctx.secrets);
      output.note(`[tollgate] ${message}`);
      const logTail = output.tail();
      await output.close();
      throw new StageError(failure.type, message, plan.name, failure.exitCode, logTail, logPath, { cause });
    };

    const engine = prepareEngine(this.options.cliBin);
    if (typeof engine === 'string')
      return fail({ type: FailureType.EngineNotInstalled, exitCode: null, message: engine });

    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort(new Error(`timeout after ${plan.timeoutMs} ms`));
    }, plan.timeoutMs);
    const onCancel = (): void => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onCancel, { once: true });
    if (ctx.signal.aborted) onCancel();
    const reporter = this.reporter(output, ctx);
    try {
      const sdk = await loadDaggerSdk();
      const run = await withDaggerSession(
        sdk,
        (client) => this.execute(sdk, client, plan, ctx, started, reporter),
        {
          signal: stop.signal,
          engine,
          ...optional('connectTimeoutMs', this.connectTimeoutMs(plan)),
          ...(this.options.logOutput ? { logOutput: this.options.logOutput } : {}),
        },
      );
      if (run.failure) return await fail(run.failure);
      if (run.reused) return await servedFromCache(run.reused, output, ctx.attempt, started);
      const coverage =
        plan.coverageMinimum === undefined ? undefined : checkCoverage(run.transcript, plan.coverageMinimum);
      if (coverage)
        return await fail({ type: FailureType.CoverageShortfall, exitCode: 0, message: coverage });
      return await this.passed(plan, ctx, started, output, run);
    } catch (error) {
      if (error instanceof StageError) throw error;
      if (timedOut) {
        return await fail({
          type: FailureType.StageTimeout,
          exitCode: null,
          message: `ran past the stage timeout of ${plan.timeoutMs} ms`,
        });
      }
      if (ctx.signal.aborted) {
        output.note('[tollgate] cancelled: stopped waiting for the engine and closed the session');
        await output.close();
        throw new StageCancelledError(`${plan.name} was cancelled`, { cause: error });
      }
      const failure = classifyDaggerError(error, plan.retryableExitCodes);
      if (failure) return await fail(failure, error);
      output.note(`[tollgate] unexpected error: ${redact(String(error), ctx.secrets)}`);
      await output.close();
      throw error;
    } finally {
      clearTimeout(timer);
      reporter.stop();
      ctx.signal.removeEventListener('abort', onCancel);
    }
  }

  private async execute(
    sdk: DaggerSdk,
    client: Client,
    plan: CommandPlan,
    ctx: StageRunContext,
    started: Date,
    reporter: StepReporter,
  ): Promise<Execution> {
    const expectAny = sdk.ReturnType.Any;
    const digests: Record<string, string> = {};
    const unresolved = await resolveImages(client, this.imageUses(plan), reporter, digests);
    if (unresolved) return { transcript: '', stepCount: 0, failure: unresolved };
    // The engine's cache serves layers; whether the stage runs at all is the stage result cache's call.
    const reused = await ctx.reuse?.(imageIdentity(digests));
    if (reused) return { transcript: '', stepCount: 0, reused };
    // Each stage starts from a fresh container: the dependency install first, on the manifests alone.
    const extraCa = optional(
      'extraCaCerts',
      this.setting(plan, 'TOLLGATE_EXTRA_CA_CERTS', this.options.extraCaCerts),
    );
    const files = rootFiles(ctx.sourceDir);
    const { install, steps: stageSteps } = splitInstall(plan.steps, files);
    const containers = stageContainers(client, plan, {
      sourceDir: ctx.sourceDir,
      secrets: ctx.secrets,
      attemptKey: `${ctx.runId}/${ctx.attempt}/${started.toISOString()}`,
      ...extraCa,
      ...(install ? { install: { argv: install, inputs: installInputs(files) } } : {}),
    });
    // The plan's own numbers: a hoisted first step is still "step 1/n", as on the host.
    const hoisted = plan.steps.length - stageSteps.length;
    const total = plan.steps.length;
    const label = hoisted ? `step 1/${total} (${install!.join(' ')})` : undefined;
    const deps = install
      ? await installDependencies(
          containers.deps,
          install,
          plan.retryableExitCodes,
          expectAny,
          reporter,
          label,
        )
      : { container: containers.deps };
    if ('failure' in deps) return { transcript: '', stepCount: 0, failure: deps.failure };
    const stageEnv = { env: containerEnv(plan), retryableExitCodes: plan.retryableExitCodes };
    const stage = containers.stage(deps.container);
    const numbering = { before: hoisted, total };
    const steps = await runSteps(stage, stageEnv, stageSteps, expectAny, reporter, numbering);
    const execution = { transcript: steps.transcript, stepCount: plan.steps.length };
    if (steps.failure || !plan.artifact)
      return { ...execution, ...(steps.failure ? { failure: steps.failure } : {}) };
    const { runtimeImage, scanImage } = this.images(plan);
    const nativeNote = nativeModulesNote(runtimeImage);
    if (nativeNote) reporter.output(`[tollgate] note: ${nativeNote}`);
    const image = await shipImage(
      client,
      steps.container,
      plan.artifact,
      {
        runtimeImage,
        startCommand: this.startCommand(plan),
        revision: this.setting(plan, 'TOLLGATE_REVISION') ?? ctx.commit ?? 'unknown',
        created: started.toISOString(),
        cache: plan.cache,
        retryableExitCodes: plan.retryableExitCodes,
        exportPath: join(ctx.runDir, 'image.oci.tar'),
        release: releasePaths(ctx.runDir),
        scanImage,
        ...extraCa,
        ...optional('imageRef', this.publishAddress(plan, plan.artifact, ctx)),
        ...optional('scanSeverity', this.setting(plan, 'TOLLGATE_SCAN_SEVERITY', this.options.scanSeverity)),
      },
      expectAny,
      reporter,
    );
    return 'failure' in image
      ? { ...execution, failure: image.failure }
      : { ...execution, artifact: image.artifact };
  }

  /** The build's runtime base and scanner: the plan's (config `images`), else the options', else the defaults. */
  private images(plan: CommandPlan): { runtimeImage: string; scanImage: string } {
    return {
      runtimeImage: plan.artifact?.runtimeImage ?? this.options.runtimeImage ?? slimVariant(plan.image),
      scanImage: plan.artifact?.scanImage ?? this.options.scanImage ?? DEFAULT_IMAGES.scanner,
    };
  }

  /** Every image this stage pulls, with the config field that names it. */
  private imageUses(plan: CommandPlan): ImageUse[] {
    const uses: ImageUse[] = [{ image: plan.image, field: `stages.${plan.name}.image (or defaults.image)` }];
    for (const [index, service] of (plan.services ?? []).entries())
      uses.push({ image: service.image, field: `stages.${plan.name}.services[${index}].image` });
    if (plan.artifact) {
      const { runtimeImage, scanImage } = this.images(plan);
      uses.push({
        image: runtimeImage,
        field: 'images.runtime (default: the -slim variant of the stage image)',
      });
      if (this.setting(plan, 'TOLLGATE_SCAN_SEVERITY', this.options.scanSeverity))
        uses.push({ image: scanImage, field: 'images.scanner' });
    }
    return uses;
  }

  /** A per-release setting: the plan's env (set by the workflow) wins, then the option, then the worker's env. */
  private setting(plan: CommandPlan, name: string, option?: string): string | undefined {
    return plan.env[name] ?? option ?? (this.options.env ?? process.env)[name] ?? undefined;
  }

  /**
   * Where the build publishes its image: TOLLGATE_IMAGE_REF when set, else the repository the docker
   * environments pull from (`docker.registry`), tagged by the commit (or the run when there is none).
   */
  private publishAddress(
    plan: CommandPlan,
    artifact: ArtifactPlan,
    ctx: StageRunContext,
  ): string | undefined {
    const explicit = this.setting(plan, 'TOLLGATE_IMAGE_REF', this.options.imageRef);
    if (explicit || !artifact.publishTo) return explicit;
    // Without a commit (schema 1 runs), the whole run id: its first 12 characters are the app's name.
    return ctx.commit
      ? releaseAddress(artifact.publishTo, ctx.commit)
      : `${artifact.publishTo}:${imageTag(ctx.runId)}`;
  }

  /** The deadline for reaching the engine: the option, else TOLLGATE_DAGGER_CONNECT_TIMEOUT_MS. */
  private connectTimeoutMs(plan: CommandPlan): number | undefined {
    const fromEnv = Number(this.setting(plan, 'TOLLGATE_DAGGER_CONNECT_TIMEOUT_MS') ?? Number.NaN);
    return this.options.connectTimeoutMs ?? (Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined);
  }

  private startCommand(plan: CommandPlan): string[] {
    const fromEnv = this.setting(plan, 'TOLLGATE_START_COMMAND');
    return this.options.startCommand ?? fromEnv?.split(' ').filter(Boolean) ?? ['npm', 'start'];
  }

  private async passed(
    plan: CommandPlan,
    ctx: StageRunContext,
    started: Date,
    output: StageOutput,
    run: Execution,
  ): Promise<StageResult> {
    const lines = plan.coverageMinimum === undefined ? undefined : parseLineCoverage(run.transcript);
    return passedResult(output, {
      plan,
      runner: 'dagger',
      attempt: ctx.attempt,
      started,
      summary: (durationMs) => {
        const parts = [`${run.stepCount} step(s) passed in ${(durationMs / 1000).toFixed(1)}s`];
        if (lines !== undefined) parts.push(`line coverage ${lines}%`);
        const { artifact } = run;
        if (artifact?.image)
          parts.push(`image ${artifact.image.digest.slice(0, 19)} (${mb(artifact.image.sizeBytes)})`);
        if (artifact) parts.push(`artifact ${artifact.digest.slice(0, 19)} (${mb(artifact.sizeBytes)})`);
        return parts.join('; ');
      },
      ...(run.artifact ? { artifact: run.artifact } : {}),
    });
  }

  /** Notes each step in the log, and keeps quiet steps visible: Dagger returns output only when an exec ends. */
  private reporter(output: StageOutput, ctx: StageRunContext): StepReporter & { stop(): void } {
    let current = 'connecting to the engine';
    let since = Date.now();
    const ticker = setInterval(() => {
      ctx.onProgress?.(`[tollgate] ${current}: running for ${Math.round((Date.now() - since) / 1000)}s`);
    }, this.options.progressIntervalMs ?? 10_000);
    ticker.unref();
    return {
      step(label) {
        current = label;
        since = Date.now();
        output.note(`[tollgate] ${label}`);
      },
      output(text) {
        output.write(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      },
      stop() {
        clearInterval(ticker);
      },
    };
  }
}

/** What the stage runs with, for the stage result cache: each image it pulls, by digest. */
function imageIdentity(digests: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(digests).map(([image, ref]) => [`image:${image}`, ref]));
}

/** Names of the install's files at the source root, for splitInstall and installInputs. */
function rootFiles(sourceDir: string): string[] {
  return INSTALL_INPUT_FILES.filter((file) => existsSync(join(sourceDir, file)));
}

/**
 * The release tarball's node_modules come from the build and runtime images (Linux, their Node):
 * native modules (better-sqlite3) load in the local environment only on a Linux worker of the same
 * architecture and Node major. Says so when this worker visibly differs; undefined otherwise.
 */
export function nativeModulesNote(
  image: string,
  platform: string = process.platform,
  nodeVersion: string = process.versions.node,
): string | undefined {
  const imageMajor = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)/.exec(image)?.[1];
  const workerMajor = nodeVersion.split('.')[0];
  const differences: string[] = [];
  if (platform !== 'linux') differences.push(`this worker runs ${platform}`);
  if (imageMajor !== undefined && imageMajor !== workerMajor)
    differences.push(`the build image has Node ${imageMajor}, this worker Node ${workerMajor}`);
  if (differences.length === 0) return undefined;
  return `the release tarball's dependencies were installed in ${image} (Linux) and ${differences.join('; ')}: native modules in it may not load in the local environment`;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `{ key: value }` when value is set, else `{}` (exactOptionalPropertyTypes-friendly spreading). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
