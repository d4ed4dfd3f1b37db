/** Read-only access to the files of the project init inspects; a missing or unreadable file reads as absent. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The files of one project folder, addressed by paths relative to it. */
export class ProjectFiles {
  constructor(readonly dir: string) {}

  /** The folder's own name, the last resort for the app name. */
  get folderName(): string {
    return basename(this.dir);
  }

  /** True when `path` is a file. */
  isFile(path: string): boolean {
    return this.stat(path)?.isFile() ?? false;
  }

  /** True when `path` is a folder. */
  isDir(path: string): boolean {
    return this.stat(path)?.isDirectory() ?? false;
  }

  /** The first of `paths` that is a file, if any. */
  firstFile(...paths: string[]): string | undefined {
    return paths.find((path) => this.isFile(path));
  }

  /** The file's text, or undefined. */
  text(path: string): string | undefined {
    try {
      return readFileSync(join(this.dir, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The file parsed as a JSON object, or undefined when it is missing or not an object. */
  json(path: string): Record<string, unknown> | undefined {
    const text = this.text(path);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** The names in a folder ('' = the project's own), sorted; [] when it is not one. */
  list(path = ''): string[] {
    try {
      return readdirSync(join(this.dir, path)).sort();
    } catch {
      return [];
    }
  }

  /** Whether any of `paths` mentions `word` as a whole word (e.g. a dependency name). */
  mentions(word: string, paths: string[]): boolean {
    const pattern = new RegExp(`(^|[^A-Za-z0-9_-])${word}([^A-Za-z0-9_-]|$)`, 'im');
    return paths.some((path) => pattern.test(this.text(path) ?? ''));
  }

  private stat(path: string): ReturnType<typeof statSync> | undefined {
    const full = join(this.dir, path);
    return existsSync(full) ? statSync(full) : undefined;
  }
}
