/** Runs a CLI function with captured streams, for tests. */
import type { CliIO } from './io.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

export async function capture(run: (argv: string[], io: CliIO) => Promise<number>, argv: string[], opts: Partial<CliIO> = {}): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: {},
    cwd: process.cwd(),
    isTTY: false,
    ...opts,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
