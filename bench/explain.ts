import { Client } from 'pg';
import { GENERIC_PLANS } from '../src/database/page-read-pool';
import { CHATS_PAGE_INDEX, explainPageStatement, PagePlan } from '../test/support/page-plan';

export type ExplainResult = PagePlan;

/**
 * Explains the gateway's own page statement (same name, text and parameters) on a connection set
 * up like the gateway's page-read pool, and checks its shape: a backward scan of the page index
 * (List chats' display-order index unless told), no Sort node, about `limit + 1` rows read, and the
 * one generic plan.
 */
export async function explainPageQuery(
  databaseUrl: string,
  query: { name: string; text: string; values: unknown[] },
  expectedRows: number,
  pageIndex: RegExp = CHATS_PAGE_INDEX,
): Promise<ExplainResult> {
  const client = new Client({ connectionString: databaseUrl, options: GENERIC_PLANS });
  await client.connect();
  try {
    return await explainPageStatement(client, query, expectedRows, pageIndex);
  } finally {
    await client.end();
  }
}
