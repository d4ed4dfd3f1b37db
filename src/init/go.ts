/** The pipeline of a Go module: vet and test, then one binary in dist/. */
import type { ProjectFiles } from './files.js';
import type { GoFacts, Toolchain } from './project.js';

/** The module path and the main package, from go.mod and the folders. */
export function readGoFacts(files: ProjectFiles): { name?: string; facts: GoFacts } {
  const goMod = files.text('go.mod') ?? '';
  const module = /^\s*module\s+"?([^\s"]+)"?/m.exec(goMod)?.[1] ?? '';
  const name = binaryName(module);
  const mainPackage = name && files.isDir(`cmd/${name}`) ? `./cmd/${name}` : '.';
  return { name, facts: { module, mainPackage } };
}

/** The stages, artifact and start command of a Go module; `binary` names the file in dist/. */
export function goToolchain(files: ProjectFiles, facts: GoFacts, binary: string): Toolchain {
  const output = `dist/${binary}`;
  const hasMain =
    facts.mainPackage !== '.' ||
    files.list().some((name) => name.endsWith('.go') && !name.endsWith('_test.go'));
  const todo = hasMain
    ? undefined
    : `point the build at your main package (none at . or ./cmd/${binary}), e.g. ./cmd/server`;
  return {
    image: `golang:${goVersion(files.text('go.mod') ?? '')}`,
    install: { steps: [['go', 'mod', 'download']] },
    checks: [
      { name: 'vet', steps: [['go', 'vet', './...']] },
      { name: 'test', steps: [['go', 'test', './...']] },
    ],
    build: {
      name: 'build',
      steps: [['go', 'build', '-o', output, facts.mainPackage]],
      purpose: `compiles ${facts.mainPackage} into the binary ${output}`,
      ...(todo ? { todo } : {}),
    },
    artifact: {
      include: ['dist'],
      install: ['test', '-x', output],
      installNote: 'A Go binary needs nothing installed beside it: this only checks that the build made it.',
      sbom: {
        argv: ['go', 'version', '-m', output],
        note: "The modules compiled into the binary (Go's own record), kept with each release. For a CycloneDX SBOM use a tool such as syft: ['syft', 'dir:.', '-o', 'cyclonedx-json'].",
      },
    },
    // Go keeps downloaded modules in its own cache outside the project: nothing to restore here.
    dependencies: [],
    start: { argv: [`./${output}`], from: 'the build output' },
  };
}

/** The last element of the module path, skipping a major-version suffix (example.com/notes/v2 → notes). */
function binaryName(module: string): string | undefined {
  const parts = module.split('/').filter(Boolean);
  const last = parts.at(-1);
  return last && /^v\d+$/.test(last) && parts.length > 1 ? parts.at(-2) : last;
}

/** The go directive's major.minor ("go 1.22.3" → 1.22); 1.22 when there is none. */
function goVersion(goMod: string): string {
  return /^\s*go\s+(\d+\.\d+)/m.exec(goMod)?.[1] ?? '1.22';
}
