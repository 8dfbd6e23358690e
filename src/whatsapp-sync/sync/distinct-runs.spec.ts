import { distinctRuns } from './distinct-runs';

describe('distinctRuns', () => {
  it('starts a new run where a key repeats, keeping the order', () => {
    expect(distinctRuns(['a', 'b', 'a', 'c', 'c', 'd'], (item) => item)).toEqual([
      ['a', 'b'],
      ['a', 'c'],
      ['c', 'd'],
    ]);
    expect(distinctRuns([{ k: 1 }, { k: 2 }], (item) => String(item.k))).toEqual([[{ k: 1 }, { k: 2 }]]);
    expect(distinctRuns([], (item: string) => item)).toEqual([]);
  });
});
