/**
 * logfmt (`key=value key2="quoted value" flag`), as written by Heroku, Go's log/slog text handler,
 * logrus and others. https://brandur.org/logfmt
 */

function isKeyChar(c: number): boolean {
  // Anything but space, '=', '"' and control characters, as the Go logfmt decoder accepts.
  return c > 32 && c !== 61 && c !== 34 && c !== 127;
}

/**
 * Cheap test whether a line is logfmt: it starts with `key=` (no space before the first `=`) and is
 * not JSON. Plain sentences rarely start that way.
 * @example looksLikeLogfmt('level=info msg=hi') // true
 */
export function looksLikeLogfmt(line: string): boolean {
  const n = Math.min(line.length, 128);
  for (let i = 0; i < n; i++) {
    const c = line.charCodeAt(i);
    if (c === 61) return i > 0;
    if (!isKeyChar(c)) return false;
  }
  return false;
}

/**
 * Parses a logfmt line into an object of strings (a bare key is `true`).
 * @returns undefined when the line is not well-formed logfmt (unterminated quote, stray `=`).
 * @example parseLogfmt('level=info msg="hello world" status=200')
 * // { level: 'info', msg: 'hello world', status: '200' }
 */
export function parseLogfmt(line: string): Record<string, string | true> | undefined {
  const out: Record<string, string | true> = {};
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && line.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && isKeyChar(line.charCodeAt(i))) i++;
    if (i === keyStart) return undefined;
    const key = line.slice(keyStart, i);
    if (i >= n || line.charCodeAt(i) !== 61) {
      if (i < n && line.charCodeAt(i) > 32) return undefined;
      out[key] = true;
      continue;
    }
    i++; // '='
    if (i < n && line.charCodeAt(i) === 34) {
      i++;
      let value = '';
      let start = i;
      for (;;) {
        if (i >= n) return undefined;
        const c = line.charCodeAt(i);
        if (c === 34) break;
        if (c === 92 && i + 1 < n) {
          value += line.slice(start, i);
          const e = line.charCodeAt(i + 1);
          value += e === 110 ? '\n' : e === 116 ? '\t' : e === 114 ? '\r' : line[i + 1];
          i += 2;
          start = i;
          continue;
        }
        i++;
      }
      out[key] = value + line.slice(start, i);
      i++; // closing quote
      if (i < n && line.charCodeAt(i) > 32) return undefined;
    } else {
      const valueStart = i;
      while (i < n && line.charCodeAt(i) > 32) {
        if (line.charCodeAt(i) === 34) return undefined;
        i++;
      }
      out[key] = line.slice(valueStart, i);
    }
  }
  return out;
}
