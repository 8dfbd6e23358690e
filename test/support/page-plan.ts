import type { ClientBase } from 'pg';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

export interface PagePlan {
  /** EXPLAIN (ANALYZE, BUFFERS) as PostgreSQL prints it. */
  plan: string;
  indexScan: string | null;
  hasSort: boolean;
  /** Rows the scan of the page index produced, plus the ones it read and filtered out. */
  rowsRead: number;
  expectedRows: number;
  /** How the connection has planned the statement so far (pg_prepared_statements). */
  genericPlans: number;
  customPlans: number;
  /** A backward scan of the page index, no Sort node, about `expectedRows` rows read, one plan for every run. */
  ok: boolean;
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

/** List chats' page index. */
export const CHATS_PAGE_INDEX = /^chats_display_order$/;

/**
 * Explains a page statement the way the gateway runs it: as the named statement, prepared on
 * `client` by running it once, then `EXPLAIN (ANALYZE, BUFFERS) EXECUTE` with the same parameters.
 * On a connection of the page-read pool that shows the one generic plan every page uses.
 * `pageIndex` names the index (or, on a partitioned table, the partitions' indexes) the page
 * must be read from.
 */
export async function explainPageStatement(
  client: ClientBase,
  query: { name: string; text: string; values: unknown[] },
  expectedRows: number,
  pageIndex: RegExp = CHATS_PAGE_INDEX,
): Promise<PagePlan> {
  await client.query({ name: query.name, text: query.text, values: query.values });
  const execute = `EXECUTE ${query.name}(${query.values.map((value) => client.escapeLiteral(String(value))).join(', ')})`;
  const json = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${execute}`);
  const text = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`);
  const counts = await client.query<{ generic_plans: string; custom_plans: string }>(
    'SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = $1',
    [query.name],
  );
  const all = nodes((json.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan);
  const scans = all.filter((node) => /Index( Only)? Scan/.test(node['Node Type']) && node['Index Name']);
  const scan = scans.find((node) => pageIndex.test(node['Index Name']!)) ?? scans[0];
  const rowsRead = scan ? (scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1) + (scan['Rows Removed by Filter'] ?? 0) : NaN;
  const hasSort = all.some((node) => /Sort/.test(node['Node Type']));
  const genericPlans = Number(counts.rows[0]?.generic_plans ?? 0);
  const customPlans = Number(counts.rows[0]?.custom_plans ?? 0);
  return {
    plan: text.rows.map((row) => row['QUERY PLAN']).join('\n'),
    indexScan: scan ? `${scan['Node Type']}${scan['Scan Direction'] === 'Backward' ? ' Backward' : ''} using ${scan['Index Name']}` : null,
    hasSort,
    rowsRead,
    expectedRows,
    genericPlans,
    customPlans,
    ok: !!scan && pageIndex.test(scan['Index Name']!) && scan['Scan Direction'] === 'Backward' && !hasSort && rowsRead <= expectedRows + 2 && customPlans === 0,
  };
}
