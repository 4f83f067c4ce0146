/**
 * Runs one benchmark module's `run()` in a fresh process and writes its cases as JSON to a file,
 * so `bench/run.ts` measures each module's peak RSS on its own. Usage: child.ts MODULE OUT [--quick]
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, outFile, flag] = process.argv.slice(2);
if (modulePath === undefined || outFile === undefined) {
  process.stderr.write('usage: child.ts MODULE OUT [--quick]\n');
  process.exit(2);
}
const mod = (await import(pathToFileURL(modulePath).href)) as {
  run: (opts: { quick: boolean }) => Promise<Record<string, unknown>>;
};
const cases = await mod.run({ quick: flag === '--quick' });
writeFileSync(outFile, JSON.stringify(cases));
