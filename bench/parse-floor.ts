/**
 * The bare floor for reading a trail in this runtime: gunzip and JSON.parse of every object, and
 * nothing else. Prints the number of records. `npx tsx bench/parse-floor.ts <folder>`
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

async function* objects(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* objects(path);
    else if (entry.name.endsWith('.json.gz')) yield path;
  }
}

let records = 0;
for await (const path of objects(process.argv[2])) {
  const document = JSON.parse(gunzipSync(await readFile(path)).toString('utf8')) as { Records: unknown[] };
  records += document.Records.length;
}
process.stdout.write(`${records}\n`);
