import 'reflect-metadata';
import { createDataSource } from './src/db/data-source';

/**
 * For the TypeORM CLI (`npm run migration:generate -- migrations/Name`). The server itself
 * builds its DataSource in src/db and runs migrations at start.
 */
const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL: expected a postgres:// URL for the TypeORM CLI');
export default createDataSource(url);
