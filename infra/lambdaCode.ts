import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { InfraError } from './errors.ts';

/** Where `npm run build` (scripts/build.ts) writes each handler bundle, relative to the project root. */
export const BundleRoot = 'dist';
/** The bundle's entry file; with `index.handler` as the Lambda handler string. */
export const BundleEntry = 'index.mjs';

/**
 * The esbuild bundle of one handler (`dist/<stage>/`) as a Lambda code archive — the artifact the
 * bundle test loads is the artifact deployed, never a serialized closure. A missing bundle fails
 * `pulumi up` with the command that builds it; in a preview (and in the mocked tests) it is a warning.
 *
 * @example
 * new aws.lambda.Function('ingest', { code: lambdaCode('ingest'), handler: 'index.handler', ... });
 */
export function lambdaCode(
  stage: string,
  options: { exists?: (path: string) => boolean; dryRun?: boolean } = {},
): pulumi.asset.FileArchive {
  const dir = join(BundleRoot, stage);
  const entry = join(dir, BundleEntry);
  const exists = options.exists ?? existsSync;
  if (!exists(entry)) {
    const message = `Lambda bundle ${entry} is missing: run \`npm run build\` before \`pulumi up\``;
    if (!(options.dryRun ?? pulumi.runtime.isDryRun())) throw new InfraError(message);
    pulumi.log.warn(message);
  }
  return new pulumi.asset.FileArchive(dir);
}
