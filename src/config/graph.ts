/**
 * The stage graph and the environment chain as pure functions: validation (unknown needs,
 * cycles), the order stages start in, and what `--until` keeps. No I/O and no Node built-ins:
 * the config loader, the CLI and the workflow all use it.
 */

/** A stage as the graph sees it. */
export interface GraphStage {
  name: string;
  needs: readonly string[];
}

/** One thing wrong with the graph, for the config loader's error (path relative to `stages`). */
export interface GraphProblem {
  path: string;
  message: string;
}

/** Unknown or self `needs`, and cycles (each named once, as the loop of stage names). */
export function graphProblems(stages: readonly GraphStage[]): GraphProblem[] {
  const names = new Set(stages.map((s) => s.name));
  const problems: GraphProblem[] = [];
  for (const stage of stages) {
    stage.needs.forEach((need, index) => {
      if (need === stage.name) {
        problems.push({
          path: `${stage.name}.needs.${index}`,
          message: `names the stage itself: a stage cannot wait for itself; remove "${need}" from needs`,
        });
      } else if (!names.has(need)) {
        problems.push({
          path: `${stage.name}.needs.${index}`,
          message: `names no stage: "${need}" is not one of ${[...names].map((n) => `"${n}"`).join(', ')}; fix the name or remove it`,
        });
      }
    });
  }
  if (problems.length > 0) return problems;
  for (const cycle of cycles(stages)) {
    problems.push({
      path: `${cycle[0]}.needs`,
      message: `is part of a cycle: ${[...cycle, cycle[0]].join(' → ')}; remove one of these needs so the stages can start`,
    });
  }
  return problems;
}

/**
 * The loops in the graph, each once, as stage names in the direction of waiting (each needs the
 * next, the last needs the first), starting from the one declared first. Assumes known needs.
 */
export function cycles(stages: readonly GraphStage[]): string[][] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const declared = new Map(stages.map((s, index) => [s.name, index]));
  const state = new Map<string, 'open' | 'done'>();
  const seen = new Set<string>();
  const found: string[][] = [];
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'open') {
      const loop = path.slice(path.indexOf(name));
      const key = [...loop].sort().join('\0'); // the same loop reached from another stage
      if (seen.has(key)) return;
      seen.add(key);
      const first = loop.reduce((a, b) => (declared.get(a)! <= declared.get(b)! ? a : b));
      const at = loop.indexOf(first);
      found.push([...loop.slice(at), ...loop.slice(0, at)]);
      return;
    }
    state.set(name, 'open');
    for (const need of byName.get(name)?.needs ?? []) visit(need, [...path, name]);
    state.set(name, 'done');
  };
  for (const stage of stages) visit(stage.name, []);
  return found;
}

/**
 * The stages in the order they can start: each after everything it needs, ties in declaration
 * order. Assumes a valid graph (graphProblems is empty).
 */
export function startOrder<S extends GraphStage>(stages: readonly S[]): S[] {
  const done = new Set<string>();
  const order: S[] = [];
  while (order.length < stages.length) {
    const next = stages.find((s) => !done.has(s.name) && s.needs.every((n) => done.has(n)));
    if (!next) throw new Error('the stage graph has a cycle');
    done.add(next.name);
    order.push(next);
  }
  return order;
}

/** `name` and every stage it needs, directly or not. */
export function withNeeds(stages: readonly GraphStage[], name: string): Set<string> {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const keep = new Set<string>();
  const add = (n: string): void => {
    if (keep.has(n)) return;
    keep.add(n);
    for (const need of byName.get(n)?.needs ?? []) add(need);
  };
  add(name);
  return keep;
}

/** What a run covers: which stages (in config order) and how many links of the chain. */
export interface RunScope<S extends GraphStage> {
  stages: S[];
  /** The first `links` environments of the chain. */
  links: number;
}

/**
 * What `until` keeps: a stage name keeps that stage and what it needs, and no environment; an
 * environment name keeps every stage and the chain up to and including it; nothing keeps all.
 * Returns undefined when `until` names neither (the caller says so).
 */
export function scopeUntil<S extends GraphStage>(
  stages: readonly S[],
  environments: readonly string[],
  until: string | undefined,
): RunScope<S> | undefined {
  if (until === undefined) return { stages: [...stages], links: environments.length };
  const link = environments.indexOf(until);
  if (link >= 0) return { stages: [...stages], links: link + 1 };
  if (!stages.some((s) => s.name === until)) return undefined;
  const keep = withNeeds(stages, until);
  return { stages: stages.filter((s) => keep.has(s.name)), links: 0 };
}
