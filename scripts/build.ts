/**
 * Builds the producer SDK (`dist/sdk/`, see below) and each Lambda handler in `processors/handlers/` into a self-contained ESM bundle under
 * `dist/<name>/index.mjs`, which infra/ ships as a FileArchive and a test loads and invokes:
 * the artifact we deploy is the artifact we test.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const handlersDir = join(root, 'processors', 'handlers');

/** Handler entry files: one per Lambda (`ingest.ts`, `detect.ts`). */
export function handlerEntries(): string[] {
  return readdirSync(handlersDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
}

/** `tsx scripts/build.ts [handlers|sdk]`: one part only (a test rebuilding the SDK leaves the handlers alone). */
const part = process.argv[2];
if (part !== undefined && part !== 'handlers' && part !== 'sdk') {
  process.stderr.write(`build: unknown part '${part}'; use 'handlers', 'sdk' or nothing for both\n`);
  process.exit(2);
}

for (const file of part === 'sdk' ? [] : handlerEntries()) {
  const name = file.replace(/\.ts$/, '');
  await build({
    entryPoints: [join(handlersDir, file)],
    outfile: join(root, 'dist', name, 'index.mjs'),
    bundle: true,
    platform: 'node',
    // Lambda runs nodejs22.x (nodejs20.x is deprecated, DESIGN.md §4); the bundle also loads on Node 20 here.
    target: 'node20',
    format: 'esm',
    minify: false,
    sourcemap: 'linked',
    legalComments: 'none',
    // ESM bundles of CommonJS dependencies need a real `require`.
    banner: {
      js: "import { createRequire as __twCreateRequire } from 'node:module'; const require = __twCreateRequire(import.meta.url);",
    },
    // Native modules never run inside the Lambda handlers; keep them out if something pulls them in.
    external: ['@duckdb/node-api', 'leveldown', 'classic-level'],
    logLevel: 'warning',
  });
  process.stdout.write(`built dist/${name}/index.mjs\n`);
}

// The producer SDK as JavaScript, so services import `tidewatch/sdk` and pino loads the
// `tidewatch/sdk/pino` transport (in a worker thread, where no TypeScript loader applies) with plain
// Node. Dependencies stay external: they resolve from the installing project's node_modules.
for (const name of part === 'handlers' ? [] : ['index', 'pino']) {
  await build({
    entryPoints: [join(root, 'sdk', `${name}.ts`)],
    outfile: join(root, 'dist', 'sdk', `${name}.mjs`),
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
  });
  process.stdout.write(`built dist/sdk/${name}.mjs\n`);
}
