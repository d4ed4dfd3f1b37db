/** Writing TypeScript source by hand: literals, wrapped comments, and lists that break when a line gets long. */

/** Lines longer than this are wrapped (comments) or broken into one item per line (lists, objects). */
export const WIDTH = 110;

/** `text` as `//` comment lines, wrapped to the width, each starting with `indent`. */
export function comment(text: string, indent: string): string[] {
  return wrap(text, `${indent}// `);
}

/** `text` as lines of at most WIDTH characters (a longer word stays whole), each starting with `prefix`. */
export function wrap(text: string, prefix: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(prefix + line);
  return lines;
}

/** `open` + the items + `close` on one line when it fits; otherwise one item per line, each with a comma. */
export function inline(indent: string, open: string, items: string[], close: string): string[] {
  const line = `${indent}${open}${items.join(', ')}${close}`;
  if (line.length <= WIDTH) return [line];
  return [
    `${indent}${open.trimEnd()}`,
    ...items.map((item) => `${indent}  ${item},`),
    `${indent}${close.trimStart()}`,
  ];
}

/** A string literal in single quotes. */
export function str(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An array of string literals: ['npm', 'test']. */
export function list(values: string[]): string {
  return `[${values.map(str).join(', ')}]`;
}

/** An object key: bare when it is an identifier, quoted otherwise (kebab-case stage names). */
export function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : str(name);
}
