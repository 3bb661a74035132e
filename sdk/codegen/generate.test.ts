import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OUTPUT_DIR, writeGenerated } from './generate';

/** The committed output of `npm run codegen` is what the schema and the operations generate today. */
test('sdk/generated is up to date with the schema and the operations (else: npm run codegen)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-codegen-'));
  try {
    const written = await writeGenerated(dir);
    const committed = path.join(__dirname, '..', '..', OUTPUT_DIR);
    expect(fs.readdirSync(committed).sort()).toEqual(written.map((f) => path.basename(f)).sort());
    for (const file of written) {
      expect({ file: path.basename(file), content: fs.readFileSync(path.join(committed, path.basename(file)), 'utf8') }).toEqual({
        file: path.basename(file),
        content: fs.readFileSync(file, 'utf8'),
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
