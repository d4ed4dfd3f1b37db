/** Smoke tests of a built image: run it as a Dagger service and probe paths from a curl container. */
import { DEFAULT_IMAGES } from '../constants.js';
import { FailureType } from '../failures.js';
import { resolveImages, type StepReporter } from './dagger-pipeline.js';
import type { DaggerFailure } from './dagger-errors.js';
import { classifyDaggerError } from './dagger-errors.js';
import { loadDaggerSdk, prepareEngine, withDaggerSession } from './dagger-session.js';
import { StageError } from './errors.js';

/** What to start and what to ask it. */
export interface SmokeTestOptions {
  /** The image: the build stage's OCI tarball on this machine, or a published reference. */
  image: { tarball: string } | { ref: string };
  /** The port the app listens on inside the container. */
  port: number;
  /** Paths to GET, e.g. `/healthz`; each passes on a 2xx or 3xx answer. */
  paths: string[];
  /** Env for the app (plain values only: smoke tests get no secrets). */
  env?: Record<string, string>;
  signal?: AbortSignal;
  /** The Dagger CLI, when not found by detectDagger. */
  cliBin?: string;
  /** The probe's image (config `images.probe`); default DEFAULT_IMAGES.probe. */
  curlImage?: string;
}

/** One probe's outcome. */
export interface SmokeProbe {
  path: string;
  ok: boolean;
  /** HTTP status, or null when curl got no answer. */
  status: number | null;
  /** curl's exit code: 0, or why there was no answer (7 connection refused, 28 timed out). */
  curlExitCode: number;
}

/** Starts the image as a service and probes each path; engine failures throw StageError (smoke-test-staging). */
export async function smokeTestImage(options: SmokeTestOptions): Promise<SmokeProbe[]> {
  const engine = prepareEngine(options.cliBin);
  if (typeof engine === 'string')
    throw new StageError(FailureType.EngineNotInstalled, engine, 'smoke-test-staging', null, '', '');
  const sdk = await loadDaggerSdk();
  const signal = options.signal ?? new AbortController().signal;
  try {
    return await withDaggerSession(
      sdk,
      async (client) => {
        let app =
          'ref' in options.image
            ? client.container().from(options.image.ref)
            : client.container().import_(client.host().file(options.image.tarball));
        for (const [name, value] of Object.entries(options.env ?? {})) app = app.withEnvVariable(name, value);
        const service = app.withExposedPort(options.port).asService({ useEntrypoint: true });
        const probeImage = options.curlImage ?? DEFAULT_IMAGES.probe;
        const unresolved = await resolveImages(client, [{ image: probeImage, field: 'images.probe' }], quiet);
        if (unresolved) throw unresolvedImage(unresolved);
        // A fresh value per run: a cached probe result would say nothing about the running service.
        const curl = client
          .container()
          .from(probeImage)
          .withServiceBinding('app', service)
          .withEnvVariable('TOLLGATE_PROBE_AT', new Date().toISOString());
        const probes: SmokeProbe[] = [];
        for (const path of options.paths) {
          const argv = ['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10'];
          argv.push(
            '--retry',
            '5',
            '--retry-connrefused',
            '--retry-delay',
            '1',
            `http://app:${options.port}${path}`,
          );
          const probe = curl.withExec(argv, { expect: sdk.ReturnType.Any });
          const curlExitCode = await probe.exitCode();
          const status = Number.parseInt((await probe.stdout()).trim(), 10);
          const answered = Number.isFinite(status) && status > 0 ? status : null;
          probes.push({
            path,
            ok: curlExitCode === 0 && answered !== null && answered < 400,
            status: answered,
            curlExitCode,
          });
        }
        return probes;
      },
      { signal, engine },
    );
  } catch (error) {
    if (error instanceof StageError) throw error;
    const failure = classifyDaggerError(error, []);
    if (!failure) throw error;
    const type = failure.type === FailureType.StepFailed ? FailureType.SmokeTestFailed : failure.type;
    throw new StageError(
      type,
      failure.message,
      'smoke-test-staging',
      failure.exitCode,
      failure.output ?? '',
      '',
      { cause: error },
    );
  }
}

/** The smoke test reports probes, not steps. */
const quiet: StepReporter = { step: () => undefined, output: () => undefined };

function unresolvedImage(failure: DaggerFailure): StageError {
  return new StageError(failure.type, failure.message, 'smoke-test-staging', null, '', '');
}
