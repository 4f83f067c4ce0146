import type * as pulumi from '@pulumi/pulumi';
import { EnvVar } from '../processors/schema.ts';

/** Values of the handlers' environment (DESIGN.md, `processors/schema.ts` `EnvVar`). */
export interface HandlerEnvironmentInput {
  logsStream: pulumi.Input<string>;
  metricsStream: pulumi.Input<string>;
  archiveDeliveryStream: pulumi.Input<string>;
  archiveErrorDeliveryStream: pulumi.Input<string>;
  alertTopicArn: pulumi.Input<string>;
  stateTable: pulumi.Input<string>;
  timestreamDatabase: pulumi.Input<string>;
  windowsTable: pulumi.Input<string>;
  pipelineTable: pulumi.Input<string>;
  windowMs: number;
  allowedLatenessMs: number;
  idleSourceTimeoutMs: number;
  processorConfigJson: string;
  dashboardUrlTemplate: string;
}

/**
 * `EnvVar` names that are deliberately not set on AWS: the Timestream endpoint override is for the
 * local endpoint only — on AWS the client must use endpoint discovery (DescribeEndpoints).
 */
export const LocalOnlyEnvVars: readonly string[] = [EnvVar.timestreamEndpoint];

/**
 * The environment both handlers get. Both get all of it, so one env parser serves both stages;
 * what each may *do* is decided by its role, not by which names it can see.
 *
 * @example
 * handlerEnvironment({ logsStream: 'tidewatch-logs', ..., windowMs: 10_000 })[EnvVar.windowMs]; // '10000'
 */
export function handlerEnvironment(i: HandlerEnvironmentInput): Record<string, pulumi.Input<string>> {
  return {
    [EnvVar.logsStream]: i.logsStream,
    [EnvVar.metricsStream]: i.metricsStream,
    [EnvVar.archiveDeliveryStream]: i.archiveDeliveryStream,
    [EnvVar.archiveErrorDeliveryStream]: i.archiveErrorDeliveryStream,
    [EnvVar.alertTopicArn]: i.alertTopicArn,
    [EnvVar.stateTable]: i.stateTable,
    [EnvVar.timestreamDatabase]: i.timestreamDatabase,
    [EnvVar.windowsTable]: i.windowsTable,
    [EnvVar.pipelineTable]: i.pipelineTable,
    [EnvVar.windowMs]: String(i.windowMs),
    [EnvVar.allowedLatenessMs]: String(i.allowedLatenessMs),
    [EnvVar.idleSourceTimeoutMs]: String(i.idleSourceTimeoutMs),
    [EnvVar.config]: i.processorConfigJson,
    [EnvVar.dashboardUrlTemplate]: i.dashboardUrlTemplate,
  };
}
