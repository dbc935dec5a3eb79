/** Helpers for the config tests: a line diff and fixture access. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/manifests/', import.meta.url));
export const DEFAULT_MANIFEST = fileURLToPath(new URL('../../build/yamls/antrea.yml', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, 'utf8');
}

export function defaultManifest(): string {
  return readFileSync(DEFAULT_MANIFEST, 'utf8');
}

export interface LineChange {
  kind: '-' | '+';
  text: string;
}

/** The removed and added lines between two texts (longest common subsequence of lines). */
export function lineDiff(a: string, b: string): LineChange[] {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as Uint32Array;
      row[j] = x[i] === y[j] ? ((lcs[i + 1] as Uint32Array)[j + 1] as number) + 1 : Math.max((lcs[i + 1] as Uint32Array)[j] as number, row[j + 1] as number);
    }
  }
  const out: LineChange[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      i++;
      j++;
    } else if (((lcs[i + 1] as Uint32Array)[j] as number) >= ((lcs[i] as Uint32Array)[j + 1] as number)) {
      out.push({ kind: '-', text: x[i++] as string });
    } else {
      out.push({ kind: '+', text: y[j++] as string });
    }
  }
  while (i < n) out.push({ kind: '-', text: x[i++] as string });
  while (j < m) out.push({ kind: '+', text: y[j++] as string });
  return out;
}

/** The diff as `-line` / `+line` strings, for readable assertions. */
export function diffLines(a: string, b: string): string[] {
  return lineDiff(a, b).map((c) => c.kind + c.text);
}
