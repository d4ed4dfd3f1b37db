/** The host runner: each step of a stage as a child process on this machine. */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cp, rm } from 'node:fs/promises';

import { FailureType } from '../failures.js';
import type { ArtifactPlan, ArtifactRef, CommandPlan, StageResult } from '../types.js';
import { checkCoverage } from './coverage.js';
import { baseEnv } from './base-env.js';
import { StageError } from './errors.js';
import { passedResult, StageOutput } from './output.js';
import { listTree, planPack, writeTarball } from './pack.js';
import { killOrphan, runProcess, type ProcessExit } from './process.js';
import { servedFromCache } from './stage-cache.js';
import { hostToolchain } from './toolchain.js';
import type { Runner, StageRunContext } from './types.js';

/** Thrown when a stage was cancelled; the activity layer reports it as a cancellation. */
export class StageCancelledError extends Error {
  override readonly name = 'StageCancelledError';
}

/** Runs stage plans as host processes in the source directory. */
export class HostRunner implements Runner {
  readonly kind = 'host' as const;

  /** Runs every step in order; throws StageError on the first failure. */
  async runStage(plan: CommandPlan, ctx: StageRunContext): Promise<StageResult> {
    const started = new Date();
    const logPath = join(ctx.runDir, `${plan.name}.log`);
    const pidFile = join(ctx.runDir, `${plan.name}.pgid`);
    mkdirSync(ctx.runDir, { recursive: true });
    const orphan = killOrphan(pidFile);
    // The log is appended across attempts: the coverage gate reads only this attempt's part.
    const logStart = existsSync(logPath) ? statSync(logPath).size : 0;
    const output = new StageOutput(logPath, ctx.secrets, ctx.onProgress, ctx.onOutput);
    if (orphan) output.note(`[tollgate] killed process group ${orphan} left by an earlier attempt`);
    output.note(`[tollgate] ${plan.name} attempt ${ctx.attempt} on host in ${ctx.sourceDir}`);
    const hit = await ctx.reuse?.(hostToolchain(plan, baseEnv().PATH));
    if (hit) return servedFromCache(hit, output, ctx.attempt, started);
    // From here: a stage that waited for a CPU slot (in reuse) still gets its whole timeout.
    const deadline = Date.now() + plan.timeoutMs;

    const fail = async (type: FailureType, message: string, exitCode: number | null): Promise<never> => {
      output.note(`[tollgate] ${message}`);
      const logTail = output.tail();
      await output.close();
      throw new StageError(type, message, plan.name, exitCode, logTail, logPath);
    };

    const env = { ...baseEnv(), ...plan.env, ...ctx.secrets, TOLLGATE_STAGE: plan.name };
    try {
      for (const [index, step] of plan.steps.entries()) {
        const label = `step ${index + 1}/${plan.steps.length} (${step.run.join(' ')})`;
        output.note(`[tollgate] ${label}`);
        const exit = await this.spawnStep(
          plan.name,
          step.run,
          ctx.sourceDir,
          { ...env, ...step.env },
          output,
          ctx,
          deadline,
          pidFile,
        );
        const problem = classifyExit(exit, plan.retryableExitCodes, plan.timeoutMs);
        if (problem) await fail(problem.type, `${label} ${problem.what}`, exit.exitCode);
      }
      if (plan.coverageMinimum !== undefined) {
        await output.flush();
        const shortfall = checkCoverage(
          readFileSync(logPath).subarray(logStart).toString('utf8'),
          plan.coverageMinimum,
        );
        if (shortfall) await fail(FailureType.CoverageShortfall, shortfall, 0);
        output.note(`[tollgate] coverage gate of ${plan.coverageMinimum}% passed`);
      }
      const artifact = plan.artifact
        ? await this.pack(plan.name, plan.artifact, ctx, output, deadline, pidFile).catch(
            (error: unknown) => {
              if (error instanceof StageError || error instanceof StageCancelledError) throw error;
              return fail(FailureType.StepFailed, `packing the artifact failed: ${String(error)}`, null);
            },
          )
        : undefined;
      return await passedResult(output, {
        plan,
        runner: 'host',
        attempt: ctx.attempt,
        started,
        summary: (durationMs) =>
          artifact
            ? `${plan.steps.length} step(s) passed; artifact ${artifact.digest.slice(0, 19)} (${formatBytes(artifact.sizeBytes)})`
            : `${plan.steps.length} step(s) passed in ${(durationMs / 1000).toFixed(1)}s`,
        ...(artifact ? { artifact } : {}),
      });
    } catch (error) {
      if (ctx.signal.aborted && !(error instanceof StageError)) {
        await output.close();
        throw new StageCancelledError(`${plan.name} was cancelled`);
      }
      throw error;
    }
  }

  private async spawnStep(
    stage: string,
    argv: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    output: StageOutput,
    ctx: StageRunContext,
    deadline: number,
    pidFile: string,
    stdoutFile?: string,
  ): Promise<ProcessExit> {
    const exit = await runProcess({
      argv,
      cwd,
      env,
      output,
      signal: ctx.signal,
      deadline,
      pidFile,
      ...(stdoutFile ? { stdoutFile } : {}),
    }).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      // A missing command is a config problem: no retry will make it appear.
      throw new StageError(
        FailureType.StepFailed,
        `cannot start ${argv[0] ?? ''}: ${code ?? String(error)}`,
        stage,
        null,
        output.tail(),
        output.logPath,
      );
    });
    if (exit.stoppedBy === 'abort') throw new StageCancelledError('cancelled');
    return exit;
  }

  /**
   * Packs the release: include paths, production dependencies, SBOM, a reproducible tarball. With an
   * npm production install and a v2/v3 lockfile, the production files are read off the lockfile and
   * streamed from the source dir while the SBOM is written; otherwise a copy is made and pruned.
   */
  private async pack(
    stage: string,
    artifact: ArtifactPlan,
    ctx: StageRunContext,
    output: StageOutput,
    deadline: number,
    pidFile: string,
  ): Promise<ArtifactRef> {
    const { packDir, tarball, sbom: sbomPath } = releasePaths(ctx.runDir);
    await rm(packDir, { recursive: true, force: true });
    for (const path of artifact.include) {
      if (!existsSync(join(ctx.sourceDir, path)))
        throw new Error(`artifact.include names ${path}, which the build did not produce`);
    }
    const env = { ...baseEnv(), ...ctx.secrets };
    const packStep = async (
      what: string,
      argv: string[],
      cwd: string,
      stdoutFile?: string,
    ): Promise<void> => {
      output.note(`[tollgate] ${what}: ${argv.join(' ')}`);
      const exit = await this.spawnStep(stage, argv, cwd, env, output, ctx, deadline, pidFile, stdoutFile);
      if (exit.exitCode !== 0)
        throw new Error(`${argv.join(' ')} exited with ${exit.exitCode ?? exit.signal}`);
    };

    const plan = await planPack(ctx.sourceDir, artifact);
    if (plan.kind === 'lockfile') {
      const { entries, files, productionPackages, devPackages, extraneous } = plan.fileSet;
      const unlisted = extraneous ? `, ${extraneous} folder(s) the lockfile does not list left out` : '';
      output.note(
        `[tollgate] packing from the lockfile: ${files} files, ${productionPackages} production packages, ${devPackages} dev packages left out${unlisted}`,
      );
      // planPack checked that the SBOM reads only the lockfile, which the source dir shares with a copy.
      const [sbom, packed] = await Promise.allSettled([
        packStep('writing SBOM', artifact.sbom, ctx.sourceDir, sbomPath),
        writeTarball({ cwd: ctx.sourceDir, entries, target: tarball, signal: ctx.signal }),
      ]);
      if (sbom.status === 'rejected') throw sbom.reason;
      if (packed.status === 'rejected') throw packed.reason;
      return { kind: 'tarball', path: tarball, ...packed.value, sbomPath };
    }

    output.note(`[tollgate] packing a copy (install: ${artifact.install.join(' ')}): ${plan.reason}`);
    mkdirSync(packDir, { recursive: true });
    for (const path of artifact.include) {
      // verbatimSymlinks: node_modules/.bin links stay relative, not absolute paths into the source tree.
      // Async: a synchronous copy of node_modules blocks the event loop, and with it the heartbeats.
      await cp(join(ctx.sourceDir, path), join(packDir, path), { recursive: true, verbatimSymlinks: true });
    }
    await packStep('installing production dependencies', artifact.install, packDir);
    await packStep('writing SBOM', artifact.sbom, packDir, sbomPath);
    return { kind: 'tarball', ...(await packDirectory(packDir, tarball)), sbomPath };
  }
}

/** Where a run's release is packed: the directory to pack, the tarball, the SBOM (both runners use these). */
export function releasePaths(runDir: string): { packDir: string; tarball: string; sbom: string } {
  return {
    packDir: join(runDir, 'artifact'),
    tarball: join(runDir, 'release.tgz'),
    sbom: join(runDir, 'sbom.cdx.json'),
  };
}

/**
 * Packs `dir` as the release tarball the local environment deploys: reproducible (names in byte order,
 * fixed times and owners), so the same files always give the same digest. Removes `dir` afterwards.
 */
export async function packDirectory(
  dir: string,
  tarball: string,
): Promise<{ path: string; digest: string; sizeBytes: number }> {
  const packed = await writeTarball({ cwd: dir, entries: await listTree(dir), target: tarball });
  await rm(dir, { recursive: true, force: true });
  return { path: tarball, ...packed };
}

/** Maps a step's exit to a failure, or null when it passed. */
function classifyExit(
  exit: ProcessExit,
  retryableExitCodes: number[],
  timeoutMs: number,
): { type: FailureType; what: string } | null {
  if (exit.stoppedBy === 'timeout') {
    return { type: FailureType.StageTimeout, what: `ran past the stage timeout of ${timeoutMs} ms` };
  }
  if (exit.signal) {
    // Killed from outside (OOM killer, an operator): an infrastructure failure, worth a retry.
    return { type: FailureType.StepInterrupted, what: `was killed by ${exit.signal}` };
  }
  if (exit.exitCode === 0) return null;
  if (exit.exitCode !== null && retryableExitCodes.includes(exit.exitCode)) {
    return { type: FailureType.StepInterrupted, what: `exited with ${exit.exitCode} (retryable by config)` };
  }
  return { type: FailureType.StepFailed, what: `exited with ${exit.exitCode}` };
}

function formatBytes(bytes: number): string {
  return bytes > 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}
