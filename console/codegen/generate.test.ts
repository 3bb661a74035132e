import fs from 'node:fs';
import path from 'node:path';
import { generate, OUTPUT_FILE } from './generate';

/** The committed output of `npm run codegen` is what the schema and the operations generate today. */
test('console/src/generated is up to date with the schema and the operations (else: npm run codegen)', async () => {
  const committed = fs.readFileSync(path.join(__dirname, '..', '..', OUTPUT_FILE), 'utf8');
  expect(committed).toBe(await generate());
});
