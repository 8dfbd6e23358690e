import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolConfig, types as pgTypes, type CustomTypesConfig } from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { AppConfig } from '../config/app-config';
import { DatabasePoolMetrics } from './database-pool-metrics';
import { dataSourceOptions, DatabaseConnectionSettings, gatewayConnectionSettings } from './data-source.options';

/**
 * Where a connection's prepared statements get one generic plan, made once, instead of a plan
 * made for each run's parameter values.
 */
export const GENERIC_PLANS = '-c plan_cache_mode=force_generic_plan';

/**
 * The connections List chats reads its pages on: a pg pool beside TypeORM's, with the same
 * settings (server, timeouts, stall watchdog), whose sessions plan prepared statements generically.
 *
 * Left to itself, PostgreSQL plans a named statement for its parameter values on its first five
 * runs and then compares: the page query's generic plan is the same backward walk of
 * `chats_display_order`, but with `LIMIT $3` unknown it is estimated at a tenth of the session's
 * chats, so it always looks dearer and every page was planned afresh, about 40% of PostgreSQL's
 * time per page. The setting is this pool's alone: TypeORM's statements (sync batches that join
 * arrays whose length the planner should see) keep plans made for their values.
 */
@Injectable()
export class PageReadPool extends Pool implements OnApplicationShutdown {
  constructor(config: AppConfig, metrics: DatabasePoolMetrics) {
    super(pageReadPoolConfig(gatewayConnectionSettings(config), config.database.pagePoolMax));
    // An idle connection that breaks (the server restarted) is replaced on next use; unhandled, the error would end the process.
    const logger = new Logger('PageReadPool');
    this.on('error', (error) => logger.warn(`an idle page-read connection failed: ${error.message}`));
    metrics.watchPool('pages', () => this);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.ended) await this.end();
  }
}

const INT8_OID = 20;
const keepText = (text: string): string => text;
/**
 * pg's type parsers, except that an int8 stays the text PostgreSQL sent: for page queries, which
 * convert their int8 columns themselves. pg's own int8 parser returns that same text after testing
 * it against a regular expression, for every bigint column of every row (a few percent of a page's CPU).
 */
export const INT8_AS_TEXT: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8_OID && format !== 'binary' ? keepText : pgTypes.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

const PAGES_SUFFIX = '/pages';

/** The page-read pool's pg settings: the DataSource's own, with its own size and generic plans. */
export function pageReadPoolConfig(settings: DatabaseConnectionSettings, max: number): PoolConfig {
  const shared = dataSourceOptions(settings).extra as PoolConfig;
  // Read the way pg reads DATABASE_URL (a socket path as host, say), so options set there are kept.
  const urlOptions = parseConnectionString(settings.url).options;
  return {
    ...shared,
    connectionString: settings.url,
    max,
    // PostgreSQL keeps 63 characters of it: the suffix that tells the two pools apart comes first.
    application_name: `${shared.application_name!.slice(0, 63 - PAGES_SUFFIX.length)}${PAGES_SUFFIX}`,
    options: urlOptions ? `${urlOptions} ${GENERIC_PLANS}` : GENERIC_PLANS,
  };
}
