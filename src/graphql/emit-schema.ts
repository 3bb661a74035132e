import fs from 'node:fs';
import path from 'node:path';
import { printAppSchema } from './schema';

/** `npm run schema:emit` rewrites schema/schema.graphql; a test fails when it is stale. */
const target = path.join(__dirname, '..', '..', '..', 'schema', 'schema.graphql');
fs.writeFileSync(target, printAppSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
