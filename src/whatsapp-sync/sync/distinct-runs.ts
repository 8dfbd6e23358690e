/**
 * Cuts `items` into consecutive runs in which no key repeats: a set-based upsert can then write each
 * run in one statement (ON CONFLICT touches a row once per statement), and applying the runs in
 * order gives exactly the result of applying the items one after another.
 */
export function distinctRuns<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const runs: T[][] = [];
  let run: T[] = [];
  let seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (seen.has(key)) {
      runs.push(run);
      run = [];
      seen = new Set();
    }
    run.push(item);
    seen.add(key);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
