/**
 * JSON.parse without a try/catch in the caller's loop: the one unavoidable try/catch of the hot
 * path lives in this small function, which V8 optimizes on its own.
 */

/** Returned instead of a value when the text is not JSON. */
export const JSON_INVALID: unique symbol = Symbol('json_invalid');

let lastError = '';

/** The parser's message for the last {@link JSON_INVALID} (read right after). */
export function lastJsonError(): string {
  return lastError;
}

/**
 * @example
 * const v = tryParseJson(line);
 * if (v === JSON_INVALID) reject('invalid_json', lastJsonError());
 */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    lastError = (e as Error).message;
    return JSON_INVALID;
  }
}
