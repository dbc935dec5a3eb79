/** One clear line for a YAML syntax error, with the line number in the file the user edits. */
import type { YAMLError } from 'yaml';

/** `message` of a yaml error without its trailing source excerpt and position (we say the position ourselves). */
export function yamlErrorText(err: YAMLError): string {
  // The library's own advice ("please use YAML.parseAllDocuments()") speaks to programmers, not to the file's author.
  if (err.code === 'MULTIPLE_DOCS') return 'more than one YAML document (a "---" line); this file must hold one';
  const first = err.message.split('\n')[0] ?? err.message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
}

/** The 1-based line and column of a yaml error, relative to the text that was parsed. */
export function yamlErrorPos(err: YAMLError): { line: number; col: number } | undefined {
  const pos = err.linePos?.[0];
  return pos ? { line: pos.line, col: pos.col } : undefined;
}

/**
 * The errors worth showing: the first of each line. The parser reports one mistake (an unclosed `{`) several times
 * at the same place as it unwinds; the copies say nothing new.
 */
export function distinctYamlErrors<E extends YAMLError>(errors: readonly E[]): E[] {
  const seen = new Set<string>();
  return errors.filter((err) => {
    const pos = yamlErrorPos(err);
    const key = pos ? String(pos.line) : err.message;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
