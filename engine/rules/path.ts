/** Reading values out of records with dotted paths; `a.b[].c` walks every item of array b. */
import { userAgentFamily } from '../useragent.ts';
import { append } from '../arrays.ts';

type Json = unknown;

/** Every value at the path (arrays marked `[]` are flattened); missing paths give []. */
const parsedPaths = new Map<string, { segment: string; spread: boolean }[]>();
/** A path's segments, parsed once (rules test the same few paths on every event). */
function segmentsOf(path: string): { segment: string; spread: boolean }[] {
  let segments = parsedPaths.get(path);
  if (!segments) {
    segments = path.split('.').map((raw) => {
      const spread = raw.endsWith('[]');
      return { segment: spread ? raw.slice(0, -2) : raw, spread };
    });
    if (parsedPaths.size < 10_000) parsedPaths.set(path, segments);
  }
  return segments;
}

export function valuesAt(root: Json, path: string): Json[] {
  if (path === '$userAgentFamily') {
    const agent = (root as { userAgent?: unknown })?.userAgent;
    return [userAgentFamily(typeof agent === 'string' ? agent : undefined)];
  }
  let current: Json[] = [root];
  for (const { segment, spread } of segmentsOf(path)) {
    const next: Json[] = [];
    for (const value of current) {
      if (value === null || typeof value !== 'object') continue;
      const child = (value as Record<string, Json>)[segment];
      if (child === undefined || child === null) continue;
      if (spread) {
        if (Array.isArray(child)) append(next, child.filter((item) => item !== undefined && item !== null));
        else next.push(child);
      } else {
        next.push(child);
      }
    }
    current = next;
  }
  return current;
}

/** Values as display strings (objects are JSON-encoded). */
export function stringValuesAt(root: Json, path: string): string[] {
  return valuesAt(root, path).map((value) =>
    typeof value === 'object' ? JSON.stringify(value) : String(value),
  );
}
