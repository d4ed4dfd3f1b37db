/**
 * The zod schema of tollgate.config.ts. Every message says what is wrong and how to fix it;
 * the loader adds the field's path and the value it got.
 */
import ms from 'ms';
import { z } from 'zod';
import { DEFAULT_IMAGES, deliveryStep } from '../constants.js';
import type { NotificationKind } from '../types.js';
import { graphProblems } from './graph.js';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SECRET_LOOKING = /^(sk|rk|pk)_(live|test)_|^whsec_/;

/** Strict objects name the unknown key and list the known ones: most unknown keys are typos. */
const UNKNOWN_KEY = {
  error: (issue: z.core.$ZodRawIssue) =>
    issue.code === 'unrecognized_keys'
      ? `has no key ${issue.keys.map((key) => `"${key}"`).join(', ')}: check the spelling; the keys here are ${Object.keys((issue.inst as z.ZodObject | undefined)?.shape ?? {}).join(', ')}`
      : undefined,
};

/** A duration: milliseconds as a number, or a string such as "90s", "10m", "1h". */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const millis = typeof value === 'number' ? value : ms(value as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a positive duration: milliseconds, or a string such as "30s", "10m", "1h"',
    });
    return z.NEVER;
  }
  return millis;
});

const envVarName = z.string().refine((name) => ENV_NAME.test(name), {
  message:
    "must be the NAME of an environment variable (A-Z, 0-9, _), not a value: export the secret in the worker's environment and list its name here",
});

const plainEnv = z.record(z.string(), z.string()).superRefine((env, ctx) => {
  for (const [key, value] of Object.entries(env)) {
    if (!ENV_NAME.test(key)) {
      ctx.addIssue({ code: 'custom', path: [key], message: 'env keys must be names like NODE_ENV' });
    }
    if (SECRET_LOOKING.test(value)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `looks like a secret written inline: remove it from env, export ${key} where the worker runs, and add "${key}" to the stage's secrets`,
      });
    }
  }
});

const argv = z
  .array(z.string().min(1, { message: 'argv entries must not be empty' }), {
    error: 'a step is an argv array such as ["npm", "test"], not a shell string',
  })
  .min(1, { message: 'a step needs a command: write it as ["npm", "test"]' });

const step = z.union([argv, z.strictObject({ run: argv, env: plainEnv.default({}) })], {
  error:
    'a step is an argv array such as ["npm", "test"] or { run: ["npm", "test"], env: {...} }, not a shell string',
});

/** A retry policy; maximumAttempts counts the first attempt too. */
export const retry = z.strictObject(
  {
    initialInterval: duration.default(1000),
    backoffCoefficient: z
      .number()
      .min(1, { message: 'must be 1 or more (1 = constant interval)' })
      .default(2),
    maximumInterval: duration.default(30_000),
    maximumAttempts: z
      .number()
      .int({ message: 'must be a whole number' })
      .min(1, { message: 'must be at least 1 (1 = no retries); use 3 to retry twice' })
      .max(20, { message: 'must be at most 20; a stage that needs more is broken, not flaky' })
      .default(3),
  },
  UNKNOWN_KEY,
);

/** An image pinned to a tag (not `latest`) or a digest: an untagged or :latest image changes under the release. */
const pinnedImage = z
  .string({ error: 'is an image reference pinned to a tag or digest, e.g. "node:20-slim"' })
  .refine((image) => /@sha256:[0-9a-f]{64}$/.test(image) || /:[^/:@]+$/.test(image.replace(/:latest$/, '')), {
    message:
      'must be pinned to a tag or digest, e.g. "stripe/stripe-mock:v0.203.0": an untagged or :latest image changes under the stage',
  });

/** The images a release uses besides its stages' own, each pinned: nothing is pulled that the config does not name. */
const images = z.strictObject(
  {
    // Runs curl against the built image in the image smoke test (Dagger runner).
    probe: pinnedImage.default(DEFAULT_IMAGES.probe),
    // Scans the built image when TOLLGATE_SCAN_SEVERITY is set (Dagger runner).
    scanner: pinnedImage.default(DEFAULT_IMAGES.scanner),
    // The build's runtime base; omitted: the -slim variant of the build stage's image.
    runtime: pinnedImage.optional(),
  },
  UNKNOWN_KEY,
);

/** A service beside a stage in containers (the Dagger runner binds it; the host runner ignores it). */
const service = z.strictObject(
  {
    name: z.string().regex(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, {
      message:
        'must be a hostname the steps can use: lower-case letters, digits and dashes, e.g. "stripe-mock"',
    }),
    image: pinnedImage,
    port: z
      .number({ error: 'is required: the port the service listens on, e.g. 12111' })
      .int()
      .min(1, { message: 'must be the port the service listens on, 1 to 65535' })
      .max(65535, { message: 'must be the port the service listens on, 1 to 65535' }),
    env: plainEnv.default({}),
  },
  UNKNOWN_KEY,
);

/** A path inside the app's folder: relative, no `..`. */
const innerPath = z
  .string()
  .refine((path) => path !== '' && !path.startsWith('/') && !path.split(/[\\/]/).includes('..'), {
    message: 'must be a path inside the app\'s folder, e.g. "node_modules" (relative, without ..)',
  });

/** Stage and environment names: kebab-case, e.g. "test-suite". */
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

const stage = z.strictObject(
  {
    needs: z
      .array(z.string(), { error: 'lists the stages this one waits for, e.g. needs: ["test-suite"]' })
      .optional(),
    image: pinnedImage.optional(),
    steps: z.array(step).min(1, {
      message: 'a stage needs at least one step, e.g. steps: [["npm", "test"]]; remove the stage to skip it',
    }),
    env: plainEnv.default({}),
    secrets: z.array(envVarName).default([]),
    // Unset: layers cached, the passed result reused while its key holds, unless the stage has secrets.
    cache: z.boolean().optional(),
    timeout: duration.optional(),
    retry: retry.partial().optional(),
    retryableExitCodes: z.array(z.number().int().min(1).max(255)).default([]),
    coverageMinimum: z
      .number()
      .min(0, { message: 'is a percentage from 0 to 100' })
      .max(100, { message: 'is a percentage from 0 to 100' })
      .optional(),
    artifact: z
      .strictObject(
        {
          include: z
            .array(z.string().min(1))
            .min(1, { message: 'list what the artifact holds, e.g. ["dist", "package.json"]' }),
          install: argv.default(['npm', 'ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund']),
          sbom: argv.default([
            'npm',
            'sbom',
            '--sbom-format',
            'cyclonedx',
            '--omit',
            'dev',
            '--package-lock-only',
          ]),
        },
        UNKNOWN_KEY,
      )
      .optional(),
    services: z
      .array(service)
      .superRefine((services, ctx) => {
        services.forEach((svc, index) => {
          const first = services.findIndex((other) => other.name === svc.name);
          if (first < index) {
            ctx.addIssue({
              code: 'custom',
              path: [index, 'name'],
              message: `duplicates services[${first}]: each service needs its own name (it is the hostname)`,
            });
          }
        });
      })
      .optional(),
    // light: barely uses the CPU, takes no CPU slot (src/runners/slots.ts); heavy by default.
    load: z.enum(['light', 'heavy']).default('heavy'),
  },
  UNKNOWN_KEY,
);

/** The gate before an environment; defaults come from its place in the chain (load.ts). */
const promotion = z.strictObject(
  {
    mode: z
      .enum(['manual', 'auto'], {
        error: 'must be "manual" (wait for promote) or "auto" (go on once the environment before passed)',
      })
      .optional(),
    approvers: z.array(z.string().min(1)).optional(),
    timeout: duration.optional(),
    onTimeout: z.enum(['rollback', 'promote'], { error: 'must be "rollback" or "promote"' }).optional(),
  },
  UNKNOWN_KEY,
);

/** The smoke test after an environment switched to the release. */
const smoke = z.strictObject(
  {
    routes: z
      .array(z.string().startsWith('/', { message: 'routes start with /, e.g. "/api/notes"' }))
      .default([]),
    // Defaults to on when the config has a revenue block.
    revenueEvents: z.boolean().optional(),
  },
  UNKNOWN_KEY,
);

/**
 * Most samples one verification window may take. Each costs the release's history about 11 events (a
 * timer, the sampling activity, the workflow tasks after each), so 500 keep a release near 5,600
 * events, far below Temporal's 10,240-event warning and its 51,200-event limit. A long window samples
 * less often, or runs as a canary, whose window workflow continues as new.
 */
export const MAX_VERIFICATION_SAMPLES = 500;

/** The verification window after an environment's switch. */
const verification = z
  .strictObject(
    {
      duration: duration.default(30_000),
      interval: duration.default(2000),
      maxErrorRate: z
        .number()
        .min(0)
        .max(1, { message: 'is a share from 0 to 1, e.g. 0.01 for 1 %' })
        .default(0.01),
      maxP95LatencyMs: z.number().positive().default(1000),
    },
    UNKNOWN_KEY,
  )
  .superRefine((window, ctx) => {
    if (window.interval > window.duration) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `is longer than the window's duration (${window.duration} ms), so no sample would be taken: make the interval shorter than the duration`,
      });
    }
    const samples = Math.floor(window.duration / window.interval);
    if (samples > MAX_VERIFICATION_SAMPLES) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `takes ${samples} samples in the ${window.duration} ms window, each about 11 events of the release's history; at most ${MAX_VERIFICATION_SAMPLES} keep it far from Temporal's limits: make the interval at least ${Math.ceil(window.duration / MAX_VERIFICATION_SAMPLES)} ms, or verify a long window as a canary (its window continues as new)`,
      });
    }
  });

const share = (example: string) =>
  z
    .number()
    .gt(0, { message: `is a probability between 0 and 1, e.g. ${example}` })
    .lt(1, { message: `is a probability between 0 and 1, e.g. ${example}` });
const ratio = z
  .number()
  .gt(1, { message: "is the canary's rate as a multiple of the stable's: above 1, e.g. 2 for a doubling" });

/** An extra signal for the verdicts: a Prometheus instant query with a plain threshold. */
const externalSignal = z
  .strictObject(
    {
      name: z
        .string()
        .regex(KEBAB, { message: 'must be lower-case letters, digits and dashes, e.g. "queue-depth"' }),
      prometheus: z.url({ message: 'is the Prometheus server\'s address, e.g. "http://127.0.0.1:9090"' }),
      query: z
        .string()
        .min(1, { message: 'is a PromQL query returning one value; $release names the canary' }),
      min: z.number().optional(),
      max: z.number().optional(),
    },
    UNKNOWN_KEY,
  )
  .refine((signal) => signal.min !== undefined || signal.max !== undefined, {
    message: 'needs a threshold: set min, max or both',
  });

/**
 * Canary steps before the switch (issue 18): each step's weight in percent, judged against the
 * stable release with a stated false-alarm rate (src/verification). Absent: blue/green.
 */
const canary = z
  .strictObject(
    {
      steps: z
        .array(
          z
            .number()
            .int({ message: 'is a whole percentage, e.g. 5' })
            .min(1, { message: 'is a percentage from 1 to 100, e.g. 5' })
            .max(100, { message: 'is a percentage from 1 to 100, e.g. 5' }),
        )
        .min(1, { message: 'needs at least one weight, e.g. [5, 25, 50]; leave canary out for blue/green' })
        .superRefine((steps, ctx) => {
          steps.forEach((weight, index) => {
            if (index > 0 && weight <= steps[index - 1]!) {
              ctx.addIssue({
                code: 'custom',
                path: [index],
                message: `is not above the step before it (${steps[index - 1]}): weights rise, e.g. [5, 25, 50]`,
              });
            }
            if (weight === 100 && index !== steps.length - 1) {
              ctx.addIssue({ code: 'custom', path: [index], message: 'is 100 %: only the last step can be' });
            }
          });
        }),
      // How long each step serves at least, and at most before an inconclusive verdict takes onInconclusive.
      stepDuration: duration.default(60_000),
      maxStepDuration: duration.optional(),
      interval: duration.default(5000),
      alpha: share('0.01').default(0.01),
      beta: share('0.2').default(0.2),
      detectableRatio: z
        .strictObject(
          { errors: ratio.optional(), latency: ratio.optional(), failedPayments: ratio.optional() },
          UNKNOWN_KEY,
        )
        .default({}),
      errorCeiling: share('0.2').default(0.2),
      minRequestsPerStep: z.number().int().min(0).default(50),
      // The window's child workflow continues as new past this many history events (lower only to test).
      eventsPerRun: z.number().int().min(100).max(40_000).default(2000),
      // A 5xx rate too small to matter: a canary that rules it out passes the 5xx comparison.
      negligibleRate: share('0.001').default(0.001),
      // Requests faster than this are never slow: a few ms on a fast service are not a regression.
      latencyFloorMs: z.number().min(0).default(50),
      onInconclusive: z
        .enum(['extend', 'rollback', 'pause'], {
          error:
            'must be "extend" (one more step duration), "rollback" or "pause" (wait for promote or rollback)',
        })
        .default('pause'),
      sticky: z
        .strictObject(
          {
            header: z
              .string()
              .regex(/^[A-Za-z0-9-]+$/, { message: 'is a header name, e.g. "x-customer-id"' })
              .optional(),
            cookie: z
              .string()
              .regex(/^[A-Za-z0-9_-]+$/, { message: 'is a cookie name, e.g. "customer"' })
              .optional(),
          },
          UNKNOWN_KEY,
        )
        .default({}),
      limits: z
        .strictObject(
          {
            maxErrorRate: z
              .number()
              .min(0)
              .max(1, { message: 'is a share from 0 to 1, e.g. 0.01 for 1 %' })
              .optional(),
            maxP95LatencyMs: z.number().positive().optional(),
            failureLimit: z.number().int().min(0).optional(),
            consecutiveFailureLimit: z.number().int().min(1).optional(),
            minRequests: z.number().int().min(1).optional(),
          },
          UNKNOWN_KEY,
        )
        .optional(),
      external: z.array(externalSignal).default([]),
      // Judge payments per release from the checkouts the proxy sees (POST to this path): a step then
      // also waits for the evidence on failed payments, so turn it on where checkouts are steady.
      checkoutPath: z
        .string()
        .startsWith('/', { message: 'is where customers check out (POST), e.g. "/api/checkout"' })
        .optional(),
      // Tops thin traffic up: probes on these routes (default: the environment's smoke routes, else its
      // health path) through the proxy, only as many as real traffic lacks for `rate` requests per second.
      probes: z
        .strictObject(
          {
            rate: z.number().positive({ message: 'is requests per second in all, e.g. 20' }).max(1000, {
              message:
                'is at most 1000 requests per second: probes top thin traffic up, they are no load test',
            }),
            routes: z
              .array(z.string().startsWith('/', { message: 'routes start with /, e.g. "/api/notes"' }))
              .min(1)
              .optional(),
            // Stripe test-mode payments, topped up to `rate` checkouts per second (needs checkoutPath
            // and a revenue block; never sent where the environment's Stripe key is not a test key).
            payments: z
              .strictObject(
                {
                  rate: z.number().positive({ message: 'is checkouts per second in all, e.g. 2' }).max(50, {
                    message: 'is at most 50 checkouts per second: payment probes give evidence, not load',
                  }),
                  amount: z
                    .number()
                    .int()
                    .min(50, { message: "is in cents, at least Stripe's 50" })
                    .default(100),
                  currency: z
                    .string()
                    .regex(/^[a-z]{3}$/, { message: 'is a lowercase ISO currency code, e.g. "usd"' })
                    .default('usd'),
                },
                UNKNOWN_KEY,
              )
              .optional(),
          },
          UNKNOWN_KEY,
        )
        .optional(),
      // How long an external signal may stay unreadable before onInconclusive applies.
      unavailableLimit: duration.default(120_000),
    },
    UNKNOWN_KEY,
  )
  .superRefine((window, ctx) => {
    if (window.interval > window.stepDuration) {
      ctx.addIssue({
        code: 'custom',
        path: ['interval'],
        message: `is longer than a step (${window.stepDuration} ms), so a step would end unjudged: make the interval shorter than stepDuration`,
      });
    }
    if (window.maxStepDuration !== undefined && window.maxStepDuration < window.stepDuration) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxStepDuration'],
        message: `is shorter than stepDuration (${window.stepDuration} ms): a step serves at least stepDuration, so make it longer`,
      });
    }
  });

/** A bounded load test after an environment's smoke test; its p95 and error rate gate what follows. */
const loadTest = z
  .strictObject(
    {
      rate: z
        .number()
        .positive({ message: 'is requests per second, e.g. 50' })
        .max(5000, { message: 'is at most 5000 requests per second: a load test is bounded' }),
      duration: duration.default(30_000),
      connections: z.number().int().min(1).max(256, { message: 'is at most 256 connections' }).default(10),
      // Default: the environment's smoke routes, else its health path.
      routes: z
        .array(z.string().startsWith('/', { message: 'routes start with /, e.g. "/api/notes"' }))
        .min(1)
        .optional(),
      maxP95LatencyMs: z.number().positive().default(500),
      maxErrorRate: z
        .number()
        .min(0)
        .max(1, { message: 'is a share from 0 to 1, e.g. 0.01 for 1 %' })
        .default(0.01),
    },
    UNKNOWN_KEY,
  )
  .refine((plan) => plan.duration <= 600_000, {
    path: ['duration'],
    message: 'is at most 10 minutes: a load test gates a promotion, it is no soak test',
  });

/** `registry[:port]/path` of an image repository: a registry host first, no tag, no digest. */
const REPOSITORY = /^[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/;

/** How a `docker` environment runs its releases' containers (the engine's address, limits, policy). */
const docker = z.strictObject(
  {
    // Default: DOCKER_HOST where the worker runs, else the engine's socket.
    engine: z
      .string()
      .regex(/^(unix:\/\/\/.+|tcp:\/\/[^/]+)$/, {
        message: 'is the engine\'s address: "unix:///var/run/docker.sock" or "tcp://127.0.0.1:2375"',
      })
      .optional(),
    network: z.string().min(1).optional(),
    memory: z.number().int().min(16, { message: 'is in MiB, at least 16' }).optional(),
    cpus: z.number().positive({ message: 'is a number of cores, e.g. 0.5' }).max(256).optional(),
    restart: z.enum(['no', 'on-failure', 'always', 'unless-stopped']).default('unless-stopped'),
    // The image a host build's tarball is put on; a Dagger build brings its own image.
    baseImage: pinnedImage.default('node:20-slim'),
    user: z
      .string()
      .regex(/^\d+(:\d+)?$/, {
        message: 'is a numeric "uid:gid", e.g. "1000:1000" (the node images\' node user)',
      })
      .default('1000:1000'),
    containerPort: z.number().int().min(1).max(65535).default(8080),
    // The repository this environment pulls release images from; a Dagger build publishes there.
    registry: z
      .string()
      .regex(REPOSITORY, {
        message:
          'is the repository release images are pulled from, with its registry and without tag or digest, ' +
          'e.g. "127.0.0.1:5000/saas-app": Tollgate tags each release and pins it by digest',
      })
      .optional(),
  },
  UNKNOWN_KEY,
);

const environment = z
  .strictObject(
    {
      name: z.string().regex(KEBAB, {
        message: 'must be lower-case letters, digits and dashes, e.g. "staging"',
      }),
      driver: z
        .enum(['local', 'docker'], { error: 'is "local" (host processes) or "docker" (containers)' })
        .default('local'),
      port: z
        .number()
        .int()
        .min(1024, { message: 'must be a free port from 1024 to 65535' })
        .max(65535, { message: 'must be a free port from 1024 to 65535' }),
      start: argv.default(['node', 'dist/server.js']),
      env: plainEnv.default({}),
      secrets: z.array(envVarName).default([]),
      healthPath: z.string().startsWith('/').default('/healthz'),
      readyPath: z.string().startsWith('/').default('/readyz'),
      // The gate before this environment; defaults in load.ts (the last link of a chain: manual).
      promotion: promotion.optional(),
      smoke: smoke.optional(),
      verification: verification.optional(),
      canary: canary.optional(),
      loadTest: loadTest.optional(),
      docker: docker.optional(),
    },
    UNKNOWN_KEY,
  )
  .refine((env) => env.docker === undefined || env.driver === 'docker', {
    path: ['docker'],
    message: 'is the docker driver\'s settings: set driver: "docker" too, or remove the block',
  })
  .transform((env) =>
    env.driver === 'docker' && env.docker === undefined ? { ...env, docker: docker.parse({}) } : env,
  );

/** Revenue protection: the Stripe webhook, the revenue tracker and the Stripe key, by name. */
const revenue = z.strictObject(
  {
    webhookPath: z.string().startsWith('/').default('/webhooks/stripe'),
    revenuePath: z.string().startsWith('/').default('/metrics/revenue'),
    webhookSecret: envVarName.default('STRIPE_WEBHOOK_SECRET'),
    stripeKeySecret: envVarName.default('STRIPE_SECRET_KEY'),
  },
  UNKNOWN_KEY,
);

/** A folder kept across fresh checkouts while its key files are unchanged. */
const dependency = z.strictObject(
  {
    path: innerPath,
    key: z.array(innerPath).min(1, {
      message: 'name the files whose content decides whether a stored copy fits, e.g. ["package-lock.json"]',
    }),
  },
  UNKNOWN_KEY,
);

/** A top-level key of schema 1 that moved: the error says where to. */
const moved = (message: string) =>
  z
    .unknown()
    .superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message }))
    .optional();

/** A 5-field cron expression ("0 6 * * *") or a macro such as "@daily", as Temporal Schedules read them. */
const cron = z
  .string()
  .refine((value) => /^@\w+$/.test(value.trim()) || value.trim().split(/\s+/).length === 5, {
    message:
      'must be a 5-field cron expression such as "0 6 * * *" (minute hour day month weekday) or "@daily"',
  });

/** An IANA time zone such as "UTC" or "Europe/Berlin". */
const timezone = z.string().refine(
  (value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

/** The daily health workflow: when the schedule starts it, and what counts as healthy. */
const health = z
  .strictObject(
    {
      schedule: z
        .strictObject({ cron: cron.default('0 6 * * *'), timezone: timezone.default('UTC') }, UNKNOWN_KEY)
        .default({ cron: '0 6 * * *', timezone: 'UTC' }),
      revenueMaxAge: duration.default(86_400_000),
      // The command stage the daily health workflow runs (e.g. "quick-health-check"); none by default.
      stage: z.string().optional(),
      stripeKeySecret: moved(
        'moved to revenue.stripeKeySecret: the Stripe checks run where the config has a revenue block',
      ),
    },
    UNKNOWN_KEY,
  )
  .default({ schedule: { cron: '0 6 * * *', timezone: 'UTC' }, revenueMaxAge: 86_400_000 });

/** The notification kinds, in the order a release meets them; a webhook receives all by default. */
export const NOTIFICATION_KINDS = [
  'gate-waiting',
  'promoted',
  'rolled-back',
  'daily-health-failed',
] as const satisfies readonly NotificationKind[];
// Fails to compile when a kind of the Notification type is missing above.
type Unlisted = Exclude<NotificationKind, (typeof NOTIFICATION_KINDS)[number]>;
const _everyKindListed: [Unlisted] extends [never] ? true : Unlisted = true;

/** Where notifications go beyond the worker's log and `<home>/notifications.jsonl`. */
const notifications = z
  .strictObject(
    {
      webhook: z
        .strictObject(
          {
            // The URL is the hook's credential: the config names the env var that holds it.
            urlSecret: z
              .string({
                error:
                  'is required: the NAME of the environment variable that holds the webhook URL, e.g. "TOLLGATE_WEBHOOK_URL"',
              })
              .superRefine((value, ctx) => {
                if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) {
                  ctx.addIssue({
                    code: 'custom',
                    message:
                      "is the webhook URL itself, which is a secret: export it where the worker runs (e.g. TOLLGATE_WEBHOOK_URL=https://...) and write the variable's NAME here",
                    params: { secret: true },
                  });
                } else if (!ENV_NAME.test(value)) {
                  ctx.addIssue({
                    code: 'custom',
                    message:
                      'must be the NAME of the environment variable that holds the webhook URL (A-Z, 0-9, _), e.g. "TOLLGATE_WEBHOOK_URL"',
                  });
                }
              }),
            events: z
              .array(
                z.enum(NOTIFICATION_KINDS, {
                  error: `must be one of ${NOTIFICATION_KINDS.map((k) => `"${k}"`).join(', ')}`,
                }),
              )
              .min(1, { message: 'must name at least one event: leave it out to send every kind' })
              .default([...NOTIFICATION_KINDS]),
          },
          UNKNOWN_KEY,
        )
        .optional(),
    },
    UNKNOWN_KEY,
  )
  .optional();

/** The whole config file. */
export const configSchema = z
  .strictObject(
    {
      app: z
        .string({ error: 'is required: the name of the app this pipeline releases, e.g. "saas-app"' })
        .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, {
          message:
            'must be 1-40 lower-case letters, digits and dashes (it names workflow IDs and directories)',
        }),
      // A URL workers fetch, or a path; omitted: the git repository that holds the config.
      repository: z
        .string({ error: "is the app's git repository: a URL the workers can fetch, or a path" })
        .min(1)
        .optional(),
      // The app's folder: relative to the config (no repository given) or to the repository's root.
      source: z.string({ error: 'is the app\'s folder, e.g. "." or "./services/api"' }).min(1).default('.'),
      runner: z
        .enum(['auto', 'host', 'dagger'], { error: 'must be "auto", "host" or "dagger"' })
        .default('auto'),
      defaults: z
        .strictObject(
          {
            image: pinnedImage.default('node:20-slim'),
            timeout: duration.default(600_000),
            retry: retry.default({
              initialInterval: 1000,
              backoffCoefficient: 2,
              maximumInterval: 30_000,
              maximumAttempts: 3,
            }),
          },
          UNKNOWN_KEY,
        )
        .default({
          image: 'node:20-slim',
          timeout: 600_000,
          retry: {
            initialInterval: 1000,
            backoffCoefficient: 2,
            maximumInterval: 30_000,
            maximumAttempts: 3,
          },
        }),
      images: images.default({ ...DEFAULT_IMAGES }),
      dependencies: z.array(dependency).default([]),
      stages: z
        .record(z.string(), stage)
        .refine((stages) => Object.keys(stages).length > 0, {
          message: 'needs at least one stage, e.g. { test: { steps: [["npm", "test"]] } }',
        })
        .superRefine((stages, ctx) => {
          for (const name of Object.keys(stages)) {
            if (!KEBAB.test(name)) {
              ctx.addIssue({
                code: 'custom',
                path: [name],
                message: 'is not a stage name: use lower-case letters, digits and dashes, e.g. "test-suite"',
              });
            }
          }
          for (const problem of graphProblems(graphOf(stages))) {
            ctx.addIssue({ code: 'custom', path: problem.path.split('.'), message: problem.message });
          }
        }),
      environments: z
        .array(environment)
        .default([])
        .superRefine((envs, ctx) => {
          const seenNames = new Map<string, number>();
          const seenPorts = new Map<number, number>();
          envs.forEach((env, index) => {
            const nameAt = seenNames.get(env.name);
            if (nameAt !== undefined) {
              ctx.addIssue({
                code: 'custom',
                path: [index, 'name'],
                message: `duplicates environments[${nameAt}]: each environment needs its own name`,
              });
            }
            seenNames.set(env.name, index);
            const portAt = seenPorts.get(env.port);
            if (portAt !== undefined) {
              ctx.addIssue({
                code: 'custom',
                path: [index, 'port'],
                message: `is already the port of environments[${portAt}]: give each environment its own port`,
              });
            }
            seenPorts.set(env.port, index);
          });
          // A release's image is published once: every docker environment pulls it from one repository.
          const registries = envs.flatMap((env, index) =>
            env.docker?.registry ? [{ registry: env.docker.registry, index }] : [],
          );
          const first = registries[0];
          for (const { registry, index } of registries.slice(1))
            if (first && registry !== first.registry)
              ctx.addIssue({
                code: 'custom',
                path: [index, 'docker', 'registry'],
                message:
                  `differs from environments[${first.index}].docker.registry (${JSON.stringify(first.registry)}): ` +
                  'a release is published to one repository, which every docker environment pulls from',
              });
        }),
      revenue: revenue.optional(),
      health,
      notifications,
      // The lane refuses releases after `limit` automatic rollbacks of the app within `window`; false: no brake.
      rollbackBrake: z
        .union([
          z.literal(false),
          z.strictObject(
            {
              limit: z
                .number()
                .int()
                .min(1, { message: 'is how many automatic rollbacks close the lane, e.g. 3' })
                .default(3),
              window: duration.default(86_400_000),
            },
            UNKNOWN_KEY,
          ),
        ])
        .default({ limit: 3, window: 86_400_000 }),
      promotion: moved(
        'moved into the environment it guards: write environments[i].promotion (by default the gate before the last environment is manual, the others auto)',
      ),
      smoke: moved(
        'moved into each environment: write environments[i].smoke: { routes: [...] }; the Stripe webhook settings are in revenue: { webhookPath, revenuePath, webhookSecret }',
      ),
      verification: moved(
        'moved into each environment: write environments[i].verification: { duration, interval, maxErrorRate, maxP95LatencyMs }; the revenue path is revenue.revenuePath',
      ),
    },
    UNKNOWN_KEY,
  )
  .superRefine((config, ctx) => {
    const artifacts = Object.entries(config.stages).filter(([, stage]) => stage.artifact);
    if (config.environments.length > 0 && artifacts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages'],
        message:
          'needs a stage with an artifact when environments are configured (the artifact is what they deploy): add artifact: { include: [...] } to your build stage, or remove environments',
      });
    }
    if (config.environments.length > 0 && artifacts.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['stages', artifacts[1]![0], 'artifact'],
        message: `is the second artifact (stage ${artifacts[0]![0]} has one): environments deploy one artifact, so keep it on one stage`,
      });
    }
    config.environments.forEach((env, index) => {
      for (const step of [deliveryStep.deploy(env.name), deliveryStep.smoke(env.name)]) {
        if (config.stages[step]) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', step],
            message: `is the name of environment ${env.name}'s own step: rename the stage`,
          });
        }
      }
      const last = index === config.environments.length - 1;
      const mode = env.promotion?.mode ?? (last ? 'manual' : 'auto');
      if (mode === 'manual' && (env.promotion?.approvers ?? []).length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'promotion', 'approvers'],
          message: `must name at least one approver: the gate before ${env.name} is manual${env.promotion?.mode ? '' : ' (the default for the last environment of the chain)'}; or set promotion: { mode: "auto" }`,
        });
      }
      if (env.canary?.probes?.payments && (!config.revenue || !env.canary.checkoutPath)) {
        const missing = [
          ...(config.revenue
            ? []
            : ['a revenue block (revenue: { webhookPath, revenuePath, webhookSecret, stripeKeySecret })']),
          ...(env.canary.checkoutPath
            ? []
            : ['canary.checkoutPath (where the app takes checkouts, e.g. "/api/checkout")']),
        ];
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'canary', 'probes', 'payments'],
          message: `needs ${missing.join(' and ')}: add ${missing.length > 1 ? 'them' : 'it'}, or drop payments`,
        });
      }
      const stripeKey = config.revenue?.stripeKeySecret;
      if (env.canary?.probes?.payments && stripeKey && !env.secrets.includes(stripeKey)) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'canary', 'probes', 'payments'],
          message: `needs "${stripeKey}" (revenue.stripeKeySecret) among this environment's secrets: payment probes run only where Tollgate hands the releases their Stripe key and can see it is a test key; add it to secrets, or drop payments`,
        });
      }
      if (env.smoke?.revenueEvents && !config.revenue) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', index, 'smoke', 'revenueEvents'],
          message:
            'needs a revenue block (revenue: { webhookPath, revenuePath, webhookSecret }): add one, or drop revenueEvents',
        });
      }
    });
    if (config.health.stage !== undefined && !config.stages[config.health.stage]) {
      ctx.addIssue({
        code: 'custom',
        path: ['health', 'stage'],
        message: `names no stage: use one of ${Object.keys(config.stages)
          .map((n) => `"${n}"`)
          .join(', ')}`,
      });
    }
  });

/** The stages as the graph sees them: an omitted `needs` is the stage declared before it. */
export function graphOf(
  stages: Record<string, { needs?: string[] | undefined }>,
): { name: string; needs: string[] }[] {
  const names = Object.keys(stages);
  return names.map((name, index) => ({
    name,
    needs: stages[name]!.needs ?? (index === 0 ? [] : [names[index - 1]!]),
  }));
}

/** What a user writes (before defaults). */
export type TollgateConfigInput = z.input<typeof configSchema>;
/** The config after parsing and defaults. */
export type TollgateConfig = z.output<typeof configSchema>;
