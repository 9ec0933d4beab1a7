/**
 * Growing lists and folding numbers without spreading data-sized arrays into a call's arguments:
 * `push(...xs)` and `Math.max(...xs)` overflow the stack past about 100k items (a legal 256 KB
 * record can hold that many numbers), and copying a list to append to it is quadratic.
 */

/** Appends every item to `target`, however many there are; returns `target`. */
export function append<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}

/** Adds `value` to the list `map` holds for `key` (a new list the first time). */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The largest value (`empty` when there is none). */
export function maxOf(values: Iterable<number>, empty = -Infinity): number {
  let max = -Infinity;
  let any = false;
  for (const value of values) {
    any = true;
    if (value > max) max = value;
  }
  return any ? max : empty;
}

/** The smallest value (`empty` when there is none). */
export function minOf(values: Iterable<number>, empty = Infinity): number {
  let min = Infinity;
  let any = false;
  for (const value of values) {
    any = true;
    if (value < min) min = value;
  }
  return any ? min : empty;
}
