#!/usr/bin/env node
// The `tidewatch` command. Sources are TypeScript run through tsx's loader, so the CLI, the tests
// and the embedded mode execute exactly the same modules.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every run that it will need Node ≥ 22 from 2027; tidewatch deploys on
// nodejs22.x and says so in the README, so the warning is noise on a developer's Node 20 CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// `tidewatch replay … | head` closes our stdout early: that is the reader saying it has enough, not
// an error worth a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
