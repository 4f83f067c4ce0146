/** What a producer needs to ship logs to the stack: the options of `createShipper` from `tidewatch/sdk`. */
export interface SdkConfig {
  streamName: string;
  region: string;
}

/**
 * The SDK configuration for a deployed stack, as data and as a copy-paste snippet (a stack output).
 *
 * @example
 * sdkConfigSnippet({ streamName: 'tidewatch-logs', region: 'eu-west-1' }).snippet;
 * // "import { createShipper } from 'tidewatch/sdk';\nconst shipper = createShipper({ ... });"
 */
export function sdkConfigSnippet(config: SdkConfig): SdkConfig & { snippet: string } {
  const snippet =
    "import { createShipper } from 'tidewatch/sdk';\n" +
    `const shipper = createShipper(${JSON.stringify({ streamName: config.streamName, region: config.region })});`;
  return { ...config, snippet };
}
