/**
 * The one error type of antrea-ts. Every error a user can see carries a stable code (documented and tested), a
 * message for people that says what, where and why, and the context it is about (file, field, gate, ...).
 */
export type ErrorCode = `ERR_${string}`;

export interface ErrorDetails {
  file?: string;
  component?: string;
  field?: string;
  gate?: string;
  cause?: unknown;
  [key: string]: unknown;
}

export class AntreaError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AntreaError';
  }
}

export function isAntreaError(err: unknown, code?: ErrorCode): err is AntreaError {
  return err instanceof AntreaError && (code === undefined || err.code === code);
}

/** A problem found by validation. Validators collect these rather than throw, so a user fixes everything in one pass. */
export interface Problem {
  severity: 'error' | 'warning';
  /** ERR_* for errors, WARN_* for warnings; stable and documented. */
  code: ErrorCode | `WARN_${string}`;
  message: string;
  file?: string;
  component?: 'agent' | 'controller';
  gate?: string;
  /** Dotted path of the key inside its document, e.g. `featureGates.Egress` or `nodePortLocal.portRange`. */
  key?: string;
}

export function errorsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'error');
}

export function warningsOf(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => p.severity === 'warning');
}

/** One line for people: `FILE: KEY: message`. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.key].filter((x): x is string => Boolean(x)).join(': ');
  const prefix = p.severity === 'warning' ? 'warning: ' : 'error: ';
  return `${prefix}${where ? `${where}: ` : ''}${p.message}`;
}

/** A message for any thrown value, without a stack trace. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
