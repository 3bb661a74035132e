/**
 * Whether `value` nests objects and arrays more than `max` levels deep (the value itself is
 * level 1 when it is an object or array). Walks with its own stack and stops at the first
 * level too deep, so a value nested far deeper than the call stack is measured safely; only
 * after this check may recursive code (JSON.stringify, jsonb) see the value.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
