/**
 * Errors of the infrastructure program. They are thrown while the Pulumi program is being built
 * (bad stack config, a missing Lambda bundle), never at runtime inside AWS.
 */

/**
 * Base class for every error the Pulumi program raises on purpose.
 *
 * @example
 * try { readStackConfig(new pulumi.Config()); } catch (e) { if (e instanceof InfraError) console.error(e.message); }
 */
export class InfraError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InfraError';
  }
}

/**
 * A stack configuration value is missing its required shape or is outside what AWS accepts. The
 * message names the key, the value, the accepted range and the command that fixes it.
 *
 * @example
 * throw new InfraConfigError('ingestBatchSize', 0, 'an integer from 1 to 10000');
 */
export class InfraConfigError extends InfraError {
  readonly key: string;
  constructor(key: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(
      `config tidewatch:${key} = ${JSON.stringify(value)} is invalid: expected ${expected}. ` +
        `Fix it with \`pulumi config set ${key} <value>\` (or remove it to use the default).`,
      options,
    );
    this.name = 'InfraConfigError';
    this.key = key;
  }
}
