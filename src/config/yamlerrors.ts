/** One clear line for a YAML syntax error, with the line number in the file the user edits. */
import type { YAMLError } from 'yaml';

/** `message` of a yaml error without its trailing source excerpt and position (we say the position ourselves). */
export function yamlErrorText(err: YAMLError): string {
  const first = err.message.split('\n')[0] ?? err.message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '').replace(/:\s*$/, '');
}

/** The 1-based line and column of a yaml error, relative to the text that was parsed. */
export function yamlErrorPos(err: YAMLError): { line: number; col: number } | undefined {
  const pos = err.linePos?.[0];
  return pos ? { line: pos.line, col: pos.col } : undefined;
}
