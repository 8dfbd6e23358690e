import { Client } from 'pg';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

export interface ExplainResult {
  /** EXPLAIN (ANALYZE, BUFFERS) as PostgreSQL prints it. */
  plan: string;
  indexScan: string | null;
  hasSort: boolean;
  /** Rows the scan of `chats` produced, plus the ones it read and filtered out. */
  rowsRead: number;
  expectedRows: number;
  ok: boolean;
}

function nodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodes)];
}

/**
 * Explains the gateway's own page query (same text, same parameters) and checks its shape: an
 * index scan of the display-order index, no Sort node, and about `limit + 1` rows read.
 */
export async function explainPageQuery(databaseUrl: string, query: { text: string; values: unknown[] }, expectedRows: number): Promise<ExplainResult> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const json = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.text}`, query.values);
    const root = (json.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0].Plan;
    const all = nodes(root);
    const scans = all.filter((node) => /Index( Only)? Scan/.test(node['Node Type']) && node['Index Name']?.startsWith('chats_'));
    const scan = scans.find((node) => node['Index Name'] === 'chats_display_order') ?? scans[0];
    const rowsRead = scan ? (scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1) + (scan['Rows Removed by Filter'] ?? 0) : NaN;
    const hasSort = all.some((node) => /Sort/.test(node['Node Type']));
    const text = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${query.text}`, query.values);
    return {
      plan: text.rows.map((row) => row['QUERY PLAN']).join('\n'),
      indexScan: scan ? `${scan['Node Type']} using ${scan['Index Name']}` : null,
      hasSort,
      rowsRead,
      expectedRows,
      ok: scan?.['Index Name'] === 'chats_display_order' && !hasSort && rowsRead <= expectedRows + 2,
    };
  } finally {
    await client.end();
  }
}
