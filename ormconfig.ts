// The DataSource for the TypeORM CLI (e.g. `npx typeorm-ts-node-commonjs migration:show -d ormconfig.ts`).
// The app, the CLI and the tests build theirs from the same options.
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { AppConfig } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source.options';

const { database } = AppConfig.fromEnvironment();
if (!database.url) throw new Error('Set DATABASE_URL to use the TypeORM CLI');

export default new DataSource(dataSourceOptions({ ...database, url: database.url }));
