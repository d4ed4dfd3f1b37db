// Command deploy-check validates Tollgate's deployment files offline with the code Docker itself
// runs, for machines (like CI here) that have no container engine:
//
//   - a compose file through compose-go's loader, the library behind `docker compose config`: the
//     compose-spec JSON schema, interpolation, and the consistency checks (undefined services,
//     volumes, secrets, networks). Unset variables and other loader warnings fail the check too.
//   - a Dockerfile through BuildKit's parser and linter, the checks behind `docker build --check`.
//     Base images are not pulled: an offline resolver answers with an empty image config, so
//     checks that need the base image's contents (its ENV, its platform) see none. Then what a
//     build finds out first about its context (the Dockerfile's directory): every COPY/ADD source
//     exists, and none is excluded by .dockerignore (BuildKit's CopyIgnoredFile rule, which needs
//     the context and so does not run in the linter here).
//
// Usage:
//
//	deploy-check compose docker-compose.yml [override.yml ...]
//	deploy-check compose --print docker-compose.yml   # and print the resolved model, like `docker compose config`
//	deploy-check dockerfile Dockerfile
//
// Exit codes: 0 valid, 1 problems found (printed on stderr), 2 usage.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/opencontainers/go-digest"
	"github.com/sirupsen/logrus"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: deploy-check compose FILE... | deploy-check dockerfile FILE")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "compose":
		files, print := os.Args[2:], false
		if files[0] == "--print" {
			files, print = files[1:], true
		}
		err = checkCompose(ctx, files, print)
	case "dockerfile":
		err = checkDockerfile(ctx, os.Args[2])
	default:
		fmt.Fprintf(os.Stderr, "deploy-check: unknown check %q (compose, dockerfile)\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// warnings collects what compose-go logs at warning level (unset variables, obsolete keys).
type warnings struct{ messages []string }

func (w *warnings) Levels() []logrus.Level { return []logrus.Level{logrus.WarnLevel} }
func (w *warnings) Fire(e *logrus.Entry) error {
	if !slices.Contains(w.messages, e.Message) {
		w.messages = append(w.messages, e.Message)
	}
	return nil
}

// checkCompose loads the files the way `docker compose config` does, with every profile enabled.
func checkCompose(ctx context.Context, files []string, print bool) error {
	if len(files) == 0 {
		return errors.New("deploy-check compose: no file given")
	}
	collected := &warnings{}
	logrus.AddHook(collected)
	logrus.SetOutput(io.Discard)

	options, err := cli.NewProjectOptions(files,
		cli.WithWorkingDirectory(filepath.Dir(files[0])),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(files, ", "), err)
	}
	if len(collected.messages) > 0 {
		return fmt.Errorf("%s: %s", strings.Join(files, ", "), strings.Join(collected.messages, "; "))
	}
	if print {
		model, err := project.MarshalYAML()
		if err != nil {
			return err
		}
		os.Stdout.Write(model)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("%s: valid compose file, project %q, services: %s\n",
		strings.Join(files, ", "), project.Name, strings.Join(names, ", "))
	return nil
}

// checkDockerfile runs BuildKit's Dockerfile linter over every stage, as `docker build --check` does.
func checkDockerfile(ctx context.Context, path string) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	source := llb.NewSourceMap(nil, path, "Dockerfile", dt)
	source.Definition = &llb.Definition{} // no build context: the source map only names the file
	results, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{
		SourceMap:    source,
		MetaResolver: offlineResolver{},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var out strings.Builder
	if results.Error != nil {
		results.PrintErrorTo(&out, nil)
	}
	if err := results.PrintTo(&out, nil); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if results.Error != nil || len(results.Warnings) > 0 {
		summary := fmt.Sprintf("%d BuildKit check warning(s)", len(results.Warnings))
		if results.Error != nil {
			summary += " and an error"
		}
		return fmt.Errorf("%s: %s\n%s", path, summary, strings.TrimSpace(out.String()))
	}
	if problems, err := checkContext(path, dt); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	} else if len(problems) > 0 {
		return fmt.Errorf("%s: %s", path, strings.Join(problems, "\n"+path+": "))
	}
	fmt.Printf("%s: no BuildKit check warnings; every COPY source is in the build context\n", path)
	return nil
}

// checkContext lists COPY/ADD sources (not --from a stage or image) that the build context, the
// Dockerfile's directory minus .dockerignore, would not have.
func checkContext(path string, dt []byte) ([]string, error) {
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, err
	}
	contextDir := filepath.Dir(path)
	var ignored *patternmatcher.PatternMatcher
	if f, err := os.Open(filepath.Join(contextDir, ".dockerignore")); err == nil {
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf(".dockerignore: %w", err)
		}
		if ignored, err = patternmatcher.New(patterns); err != nil {
			return nil, fmt.Errorf(".dockerignore: %w", err)
		}
	}
	var problems []string
	for _, stage := range stages {
		for _, command := range stage.Commands {
			var sources []string
			var line int
			switch c := command.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				sources, line = c.SourcePaths, c.Location()[0].Start.Line
			case *instructions.AddCommand:
				sources, line = c.SourcePaths, c.Location()[0].Start.Line
			default:
				continue
			}
			for _, source := range sources {
				if strings.Contains(source, "$") || strings.Contains(source, "://") || strings.HasPrefix(source, "git@") {
					continue // a build argument or a remote source: known only at build time
				}
				clean := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(source, "/")))
				// Like BuildKit: with `!` exceptions in .dockerignore, exclusion cannot be decided statically.
				if ignored != nil && !ignored.Exclusions() {
					if hit, err := ignored.MatchesOrParentMatches(clean); err != nil {
						return nil, err
					} else if hit {
						problems = append(problems, fmt.Sprintf("line %d: %s is excluded by .dockerignore (CopyIgnoredFile)", line, source))
						continue
					}
				}
				if matches, _ := filepath.Glob(filepath.Join(contextDir, clean)); len(matches) == 0 {
					problems = append(problems, fmt.Sprintf("line %d: %s is not in the build context (%s)", line, source, contextDir))
				}
			}
		}
	}
	return problems, nil
}

// offlineResolver stands in for a registry: every base image is a non-empty image of the
// requested platform with no config, so the linter runs without the network.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	if opt.ImageOpt == nil || opt.ImageOpt.Platform == nil {
		return "", "", nil, errors.New("offline resolver: no platform requested for " + ref)
	}
	p := opt.ImageOpt.Platform
	config, err := json.Marshal(map[string]any{
		"os":           p.OS,
		"architecture": p.Architecture,
		"variant":      p.Variant,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + strings.Repeat("0", 64)}},
		"config":       map[string]any{},
	})
	return ref, "", config, err
}
