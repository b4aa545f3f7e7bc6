/**
 * CNI spec versions: which ones tnet speaks and how they compare. Results are built once in the
 * 1.x shape and converted on the way out (result-encode.ts), so adding a version is one line here.
 */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

export const isSupportedVersion = (v: string): v is CniVersion => (SUPPORTED_VERSIONS as readonly string[]).includes(v);

const parts = (v: string): number[] => v.split('.').map((p) => Number.parseInt(p, 10) || 0);

/** Semver-style comparison of "a.b.c" strings: negative when a < b. */
export const compareVersions = (a: string, b: string): number => {
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

/** Results before 1.0.0 tag every IP with its family ("version": "4"). */
export const ipsCarryVersion = (v: CniVersion): boolean => compareVersions(v, '1.0.0') < 0;

/** STATUS and GC exist from 1.1.0 on; CHECK from 0.4.0 on. */
export const MIN_VERSION_FOR: Readonly<Record<string, CniVersion>> = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' };
