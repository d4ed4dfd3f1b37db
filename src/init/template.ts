/** Renders a project description as a commented tollgate.config.ts (schema 2) a new user can read top to bottom. */
import type { ArtifactStage, CheckName, ProjectDescription, StepList } from './project.js';
import { comment, inline, key, list, str, WIDTH, wrap } from './source.js';

/** The health and readiness paths written by default; the config says to adjust them. */
export const HEALTH_PATH = '/healthz';
/** See HEALTH_PATH. */
export const READY_PATH = '/readyz';

/** A word on the checks whose name alone does not say what they do. */
const CHECK_PURPOSE: Partial<Record<CheckName, string>> = {
  vet: 'go vet reports code that compiles but is likely wrong.',
};

/** The environments' loopback ports, from the app name: the same app always gets the same two, 4100-4899. */
export function environmentPorts(app: string): { staging: number; production: number } {
  // FNV-1a: a stable spread over the range, so two apps on one machine rarely collide.
  let hash = 0x811c9dc5;
  for (const char of app) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  const staging = 4100 + (hash % 700);
  return { staging, production: staging + 100 };
}

/** The TODOs a description leaves for the user, in the order they appear in the config. */
export function todosOf(project: ProjectDescription): string[] {
  const stages: StepList[] = [
    ...(project.install ? [project.install] : []),
    ...project.checks,
    project.build,
  ];
  return [
    project.start.todo,
    ...stages.map((stage) => stage.todo),
    project.artifact.todo,
    project.approver.todo,
  ].filter((todo): todo is string => todo !== undefined);
}

/** The text of tollgate.config.ts for `project`. */
export function renderConfig(project: ProjectDescription): string {
  const ports = environmentPorts(project.app);
  const todos = todosOf(project);
  const out: string[] = [];

  out.push(
    '/**',
    ...wrap(
      `The release pipeline of ${project.app}, run by Tollgate. Written by \`tollgate init\` from what it found in ` +
        'this folder; edit it freely, it is yours.',
      ' * ',
    ),
    ' *',
    ...wrap(
      'Tollgate releases git commits. `npx tollgate run` takes the commit at HEAD, runs the stages below on a ' +
        'fresh copy of it, packs what the app needs into one artifact, and takes that same artifact through ' +
        'the environments in order: staging, then production. Each release is a Temporal workflow, so it ' +
        'survives restarts and shows step by step in the Temporal UI.',
      ' * ',
    ),
    ...(todos.length > 0
      ? [
          ' *',
          ' * Before the first release, fill in what init could not tell (search for TODO):',
          ...todos.flatMap((todo) => wrap(`- ${todo}`, ' *   ')),
        ]
      : []),
    ' */',
    "import { defineTollgate } from 'tollgate/config';",
    '',
  );

  const start = project.start;
  out.push(
    ...comment(
      'How a release starts, and where Tollgate asks whether it is up. Tollgate sets PORT: the app must ' +
        `listen on it. ${HEALTH_PATH} and ${READY_PATH} are guesses: change them to routes your app answers ` +
        'with 200, healthPath once the process is alive, readyPath once it can take traffic (its database ' +
        'reachable, for example).',
      '',
    ),
    'const release = {',
    ...(start.todo ? comment(`TODO: ${start.todo}.`, '  ') : comment(`From ${start.from}.`, '  ')),
    ...inline('  ', 'start: [', start.argv.map(str), '],'),
    `  healthPath: ${str(HEALTH_PATH)},`,
    `  readyPath: ${str(READY_PATH)},`,
    '};',
    '',
    'export default defineTollgate({',
    ...comment(
      'Names the releases, workflows and folders of this app: 1-40 lower-case letters, digits, dashes.',
      '  ',
    ),
    `  app: ${str(project.app)},`,
    ...comment(
      "The app's folder, relative to this file. Releases come from the git repository that holds it.",
      '  ',
    ),
    "  source: '.',",
    ...comment(
      "Where the stages run: 'host' (this machine, in a fresh checkout of the commit), 'dagger' " +
        "(containers made from `image`), or 'auto' (Dagger when its engine can start here, else the host).",
      '  ',
    ),
    "  runner: 'auto',",
    ...comment(
      'For every stage unless it says otherwise: the container image (Dagger only) and how long a stage may ' +
        'run. A failed stage runs up to 3 times in all; set `retry` here or on a stage to change that.' +
        toolNote(project),
      '  ',
    ),
    `  defaults: { image: ${str(project.image)}, timeout: '10m' },`,
  );

  if (project.dependencies.length > 0) {
    const kept = project.dependencies.map((d) => `${d.path} (key: ${d.key.join(', ')})`).join(', ');
    out.push(
      ...comment(
        'Folders kept from one release to the next while their key files are unchanged (host runner), so ' +
          `the install runs once per change of its key, not once per release: ${kept}.`,
        '  ',
      ),
      ...inline(
        '  ',
        'dependencies: [',
        project.dependencies.map((d) => `{ path: ${str(d.path)}, key: ${list(d.key)} }`),
        '],',
      ),
    );
  }

  out.push(
    '',
    ...stagesSection(project),
    '',
    ...environmentsSection(project, ports),
    '',
    ...revenueHint(),
    '});',
  );
  return `${out.join('\n')}\n`;
}

/** A stage of the rendered pipeline and the stages it waits for; no `needs` only on the first. */
export interface StageNode {
  name: string;
  needs?: string[];
}

/** The stage graph init writes: install, then the checks side by side, then the artifact stage. */
export function stageGraph(project: ProjectDescription): StageNode[] {
  const nodes: StageNode[] = [];
  // The first stage needs nothing written: it starts at once either way.
  const add = (name: string, needs: string[]): number =>
    nodes.push(nodes.length === 0 ? { name } : { name, needs });
  if (project.install) add('install', []);
  const afterInstall = project.install ? ['install'] : [];
  for (const check of project.checks) add(check.name, afterInstall);
  add(project.build.name, project.checks.length > 0 ? project.checks.map((c) => c.name) : afterInstall);
  return nodes;
}

function stagesSection(project: ProjectDescription): string[] {
  const out = comment(
    'A stage is one named part of the pipeline: its `steps` are commands run one after the other in the ' +
      "app's folder, each written as a list of words (no shell: ['npm', 'test'], not 'npm test'). A stage " +
      'fails when a step exits with an error. `needs` names the stages that must pass first; stages whose ' +
      'needs have passed run at the same time. A stage without `needs` runs after the one written above it.',
    '  ',
  );
  out.push('  stages: {');
  const graph = new Map(stageGraph(project).map((node) => [node.name, node.needs]));
  const { install, checks, build } = project;
  if (install) {
    out.push(...comment('Runs first: every other stage needs what it installs.', '    '));
    out.push(...stage('install', graph.get('install'), install));
  }
  if (install && checks.length > 1) {
    out.push(
      ...comment(
        `${joinNames(checks.map((check) => check.name))} need only the install, so they run at the same time.`,
        '    ',
      ),
    );
  }
  for (const check of checks) {
    out.push(...stage(check.name, graph.get(check.name), check, CHECK_PURPOSE[check.name]));
  }
  out.push(...artifactStage(project, build, graph.get(build.name) ?? []));
  out.push('  },');
  return out;
}

function stage(name: string, needs: string[] | undefined, commands: StepList, purpose?: string): string[] {
  return [
    ...(purpose ? comment(purpose, '    ') : []),
    ...(commands.todo ? comment(`TODO: ${commands.todo}.`, '    ') : []),
    ...stageBody('    ', name, needs, commands),
  ];
}

/** `name: { needs, steps },` on one line when it fits, else needs and each step on lines of their own. */
function stageBody(indent: string, name: string, needs: string[] | undefined, commands: StepList): string[] {
  const needsField = needs ? [`needs: ${list(needs)}`] : [];
  const steps = commands.steps.map(list);
  const line = `${indent}${key(name)}: { ${[...needsField, `steps: [${steps.join(', ')}]`].join(', ')} },`;
  if (line.length <= WIDTH) return [line];
  return [
    `${indent}${key(name)}: {`,
    ...needsField.map((field) => `${indent}  ${field},`),
    ...inline(`${indent}  `, 'steps: [', steps, '],'),
    `${indent}},`,
  ];
}

function artifactStage(project: ProjectDescription, build: ArtifactStage, needs: string[]): string[] {
  const { artifact } = project;
  const waits =
    needs.length > 0 ? ` once ${joinNames(needs)} ${needs.length > 1 ? 'have' : 'has'} passed` : '';
  const out = comment(
    `This stage ${build.purpose}${waits}, then packs the artifact: the files listed in \`include\`, the ` +
      'one thing every environment deploys. `install` then runs in the packed folder to add what the app ' +
      'needs at run time.',
    '    ',
  );
  if (build.todo) out.push(...comment(`TODO: ${build.todo}.`, '    '));
  out.push(
    `    ${key(build.name)}: {`,
    ...(needs.length > 0 ? [`      needs: ${list(needs)},`] : []),
    ...inline('      ', 'steps: [', build.steps.map(list), '],'),
    '      artifact: {',
    ...(artifact.todo ? comment(`TODO: ${artifact.todo}.`, '        ') : []),
    ...inline('        ', 'include: [', artifact.include.map(str), '],'),
    ...(artifact.installNote ? comment(artifact.installNote, '        ') : []),
    ...inline('        ', 'install: [', artifact.install.map(str), '],'),
    ...(artifact.sbom ? comment(artifact.sbom.note, '        ') : []),
    ...(artifact.sbom ? inline('        ', 'sbom: [', artifact.sbom.argv.map(str), '],') : []),
    '      },',
    '    },',
  );
  return out;
}

function environmentsSection(
  project: ProjectDescription,
  ports: { staging: number; production: number },
): string[] {
  const { approver } = project;
  const who = approver.identity;
  return [
    ...comment(
      'Where a release goes, in this order. For each environment: the gate before it, the deploy (the new ' +
        'release starts beside the running one, and traffic switches over once it answers healthPath and ' +
        'readyPath), a smoke test, then a watch on its errors and latency. Both run on this machine behind ' +
        'a proxy at http://127.0.0.1:<port>.',
      '  ',
    ),
    '  environments: [',
    '    {',
    "      name: 'staging',",
    `      port: ${ports.staging},`,
    '      ...release,',
    ...comment(
      "Settings for the app that are not secret, e.g. { LOG_LEVEL: 'info' } (Tollgate sets PORT itself).",
      '      ',
    ),
    '      env: {},',
    ...comment(
      "Secrets are listed by NAME, e.g. ['DATABASE_URL']: Tollgate reads each value from the worker's " +
        'environment when it starts a release. The values never appear in this file, which you commit, and ' +
        'each machine can hold its own.',
      '      ',
    ),
    '      secrets: [],',
    ...comment(
      'The smoke test: requests sent to staging once the release is up, each of which must answer with a ' +
        "2xx. It starts with the health path; add your app's own routes, e.g. '/api/items'. Staging's gate " +
        'is automatic: a release that passed the stages comes straight here.',
      '      ',
    ),
    `      smoke: { routes: [${str(HEALTH_PATH)}] },`,
    '    },',
    '    {',
    "      name: 'production',",
    `      port: ${ports.production},`,
    '      ...release,',
    '      env: {},',
    '      secrets: [],',
    ...comment(
      'The gate before production: a release that passed staging waits here until one of the `approvers` ' +
        `lets it in with \`npx tollgate promote <run> --by ${who}\` (or stops it with \`npx tollgate rollback ` +
        '<run>`). --by defaults to your login name on this machine (in CI, the CI user): list the names ' +
        "people will give it. When nobody decides within `timeout`, 'rollback' ends the release and " +
        'production keeps what it runs.',
      '      ',
    ),
    ...(approver.todo ? comment(`TODO: ${approver.todo}.`, '      ') : []),
    ...inline(
      '      ',
      'promotion: { ',
      ["mode: 'manual'", `approvers: ${list([who])}`, "timeout: '30m'", "onTimeout: 'rollback'"],
      ' },',
    ),
    ...comment(
      'After the switch, Tollgate watches production for `duration`, sampling every `interval`. Past ' +
        'maxErrorRate (the share of failed requests) or maxP95LatencyMs, it switches back to the previous ' +
        'release on its own.',
      '      ',
    ),
    "      verification: { duration: '2m', interval: '10s', maxErrorRate: 0.01, maxP95LatencyMs: 1000 },",
    '    },',
    '  ],',
  ];
}

function revenueHint(): string[] {
  return [
    ...comment(
      'Taking payments with Stripe? Add a `revenue` block: staging then gets Stripe-signed test events at ' +
        'webhookPath, verification watches the revenue your app reports at revenuePath, and the daily health ' +
        'check tests the Stripe key. The two secrets are names, as above:',
      '  ',
    ),
    "  // revenue: { webhookPath: '/webhooks/stripe', revenuePath: '/metrics/revenue',",
    "  //            webhookSecret: 'STRIPE_WEBHOOK_SECRET', stripeKeySecret: 'STRIPE_SECRET_KEY' },",
  ];
}

/** What must be installed beyond the image's default tools, for the defaults comment. */
function toolNote(project: ProjectDescription): string {
  if (project.kind !== 'node' || project.node.packageManager === 'npm') return '';
  const pm = project.node.packageManager;
  return ` ${pm} must be installed where the stages run (\`corepack enable\` provides it).`;
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}
