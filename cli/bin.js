#!/usr/bin/env node
// The `tidewatch` command. Sources are TypeScript run through tsx's loader, so the CLI, the tests
// and the embedded mode execute exactly the same modules.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
