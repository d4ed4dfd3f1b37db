/**
 * The schema of every `--json` output (docs/cli-json.md), as zod schemas: the tests validate what the
 * real CLI prints against them, and scripts that read the output may do the same. Each has the
 * envelope (schemaVersion, command); every object about one run carries its workflowId and runId.
 * Bodies allow fields added later (a new field never bumps schemaVersion).
 */
import { z } from 'zod';
import { CLI_JSON_SCHEMA_VERSION } from './json.js';

const envelope = <C extends string>(command: C) =>
  z.looseObject({ schemaVersion: z.literal(CLI_JSON_SCHEMA_VERSION), command: z.literal(command) });

const id = z.string().min(1);
const iso = z.iso.datetime({ offset: true });
/** One spelling per outcome, on every surface. */
const outcome = z.enum(['succeeded', 'failed', 'rolled-back', 'cancelled', 'running', 'waiting-at-gate']);
/** A release status (the workflow's status query, schema 2): checked where the CLI relies on it. */
const releaseStatus = z.looseObject({
  app: z.string(),
  phase: z.string(),
  source: z.looseObject({ commit: z.string(), repository: z.string() }),
  stages: z.record(
    z.string(),
    z.looseObject({
      state: z.string(),
      attempts: z.number(),
      /** Served from the stage result cache: the run that produced the result. */
      cached: z.looseObject({ key: z.string(), workflowId: id, runId: id, at: iso }).optional(),
    }),
  ),
  environments: z.record(z.string(), z.unknown()),
  audit: z.array(z.looseObject({ action: z.string(), by: z.string(), outcome: z.string(), at: iso })),
});
const check = z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string() });

/** Every command's output, by the `command` it carries. */
export const CLI_JSON_SCHEMAS = {
  run: envelope('run').extend({
    workflowId: id,
    runId: id,
    url: z.url(),
    outcome,
    /** Without --wait: the commit resolved. */
    commit: z.string().optional(),
    tree: z.string().nullable().optional(),
    exitCode: z.number().int().optional(),
    message: z.string().optional(),
    gate: z.looseObject({ environment: z.string(), since: iso, timeoutAt: iso }).optional(),
    next: z.unknown().optional(),
    status: releaseStatus.optional(),
  }),
  wait: envelope('wait').extend({
    workflowId: id,
    runId: id,
    url: z.url(),
    outcome,
    exitCode: z.number().int(),
    status: releaseStatus.optional(),
  }),
  status: envelope('status').extend({
    workflowId: id,
    runId: id,
    execution: z.string(),
    url: z.url(),
    statusSchemaVersion: z.number().int(),
    app: z.string(),
    phase: z.string(),
    stages: releaseStatus.shape.stages,
    audit: releaseStatus.shape.audit,
  }),
  /** `watch --json`: one per line; `event` says which (phase, stage, gate, sample, baseline, canary, output, profile, end). */
  watch: envelope('watch').extend({
    workflowId: id,
    runId: id,
    event: z.enum(['phase', 'stage', 'gate', 'sample', 'baseline', 'canary', 'output', 'profile', 'end']),
    outcome: outcome.optional(),
    exitCode: z.number().int().optional(),
  }),
  promote: envelope('promote').extend({
    workflowId: id,
    runId: id,
    by: z.string().min(1),
    accepted: z.boolean(),
    action: z.literal('promote'),
    phase: z.string(),
    alreadyPromoted: z.object({ environment: z.string(), by: z.string(), at: iso }).nullable(),
  }),
  rollback: envelope('rollback').extend({
    workflowId: id,
    runId: id,
    by: z.string().min(1),
    /** A running release's rollback: accepted or not; an environment's: from, to and changed. */
    accepted: z.boolean().optional(),
    phase: z.string().optional(),
    environment: z.string().optional(),
    from: z.string().nullable().optional(),
    to: z.string().nullable().optional(),
    changed: z.boolean().optional(),
  }),
  history: envelope('history').extend({
    runs: z.array(
      z.looseObject({
        kind: z.enum(['release', 'partial', 'rollback']),
        workflowId: id,
        runId: id,
        startedAt: iso,
        app: z.string(),
        outcome: z.string(),
        /** Command stages served from the stage result cache, each with the run it came from. */
        cached: z.array(z.looseObject({ stage: z.string(), workflowId: id, runId: id })),
      }),
    ),
  }),
  stats: envelope('stats').extend({
    window: z.looseObject({ from: iso, to: iso }),
    runs: z.looseObject({ total: z.number(), finished: z.number() }),
    summary: z.object({
      successRate: z.number().nullable(),
      averagePipelineTimeMs: z.number().nullable(),
      deploymentFrequencyPerDay: z.number().nullable(),
    }),
    changeFailureRate: z.looseObject({ rate: z.number().nullable(), reverted: z.number() }),
    timeToRestore: z.looseObject({ count: z.number() }),
  }),
  doctor: envelope('doctor').extend({ ok: z.boolean(), checks: z.array(check) }),
  health: envelope('health').extend({ workflowId: id, runId: id.nullable() }),
  'env status': envelope('env status').extend({ environments: z.array(z.looseObject({})) }),
  'env logs': envelope('env logs').extend({ releaseId: z.string(), tail: z.string() }),
  namespace: envelope('namespace').extend({
    namespace: z.string(),
    created: z.boolean(),
    added: z.array(z.string()),
    retentionDays: z.number(),
  }),
  plans: envelope('plans').extend({
    app: z.string(),
    source: z.string(),
    stages: z.array(z.looseObject({})),
    images: z.array(z.looseObject({ image: z.string(), field: z.string() })),
  }),
  'schedule apply': envelope('schedule apply').extend({ scheduleId: id, outcome: z.string() }),
  'schedule status': envelope('schedule status').extend({ scheduleId: id, paused: z.boolean() }),
  'schedule trigger': envelope('schedule trigger').extend({ scheduleId: id, triggered: z.literal(true) }),
} as const;

/** A command whose output has a schema. */
export type JsonCommand = keyof typeof CLI_JSON_SCHEMAS;

/** Parses one output of `command` (a JSON document, or one NDJSON line of watch); throws naming what is wrong. */
export function parseCliJson(command: JsonCommand, text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  const result = CLI_JSON_SCHEMAS[command].safeParse(value);
  if (!result.success) {
    throw new Error(`${command} --json does not match docs/cli-json.md: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}
