/** Antrea release names (`v1.5.0`, `v0.13`, `1.5`) parsed and compared as major.minor.patch. */
import { AntreaError } from '../util/errors.js';

export interface Release {
  major: number;
  minor: number;
  patch: number;
}

const pattern = /^v?(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;

export function parseRelease(text: string): Release {
  const m = pattern.exec(text.trim());
  if (!m) {
    throw new AntreaError('ERR_INVALID_RELEASE', `release ${JSON.stringify(text)} is not of the form vX.Y or vX.Y.Z`, { field: 'release' });
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function compareReleases(a: Release, b: Release): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatRelease(r: Release): string {
  return `v${r.major}.${r.minor}.${r.patch}`;
}
