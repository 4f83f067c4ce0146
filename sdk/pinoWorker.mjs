// Entry point of the `tidewatch/sdk/pino` transport inside pino's worker thread.
//
// pino loads a transport by module path in a worker thread. tidewatch's sources are TypeScript and
// Node 20 does not apply `--import tsx` loader hooks inside worker threads (verified on 20.20: the
// worker fails with ERR_UNKNOWN_FILE_EXTENSION ".ts"), so the worker cannot import sdk/pino.ts
// directly. This plain-JS file registers tsx's CommonJS hook (tsx is a runtime dependency, the CLI
// uses it too) and loads the TypeScript transport through it. A build that emits JavaScript for
// sdk/ makes this file unnecessary: point the `./sdk/pino` export at the built file instead.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
const transport = require('./pino.ts');

export default transport.default;
