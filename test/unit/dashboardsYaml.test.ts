import { describe, expect, it } from 'vitest';
import { toYaml } from '../../dashboards/yaml.ts';

describe('toYaml', () => {
  it('writes nested maps and sequences in block style with JSON-quoted strings', () => {
    // Prepare
    const value = {
      apiVersion: 1,
      datasources: [
        { name: 'Timestream', jsonData: { authType: 'default' }, tags: ['a', 'b'], editable: false },
      ],
      empty: [],
      none: {},
      'odd key': null,
    };
    // Act
    const yaml = toYaml(value);
    // Assess
    expect(yaml).toBe(
      [
        'apiVersion: 1',
        'datasources:',
        '  - name: "Timestream"',
        '    jsonData:',
        '      authType: "default"',
        '    tags:',
        '      - "a"',
        '      - "b"',
        '    editable: false',
        'empty: []',
        'none: {}',
        '"odd key": null',
        '',
      ].join('\n'),
    );
  });

  it('writes multi-line strings as literal blocks, and strings a block cannot hold as JSON strings', () => {
    // Prepare
    const value = {
      rules: [
        { sql: 'SELECT 1\nFROM t\n\nORDER BY time', padded: ' lead\nx', trailing: 'a \nb', tab: 'a\tb\nc' },
      ],
    };
    // Act
    const yaml = toYaml(value);
    // Assess
    expect(yaml).toBe(
      [
        'rules:',
        '  - sql: |-',
        '      SELECT 1',
        '      FROM t',
        '',
        '      ORDER BY time',
        '    padded: " lead\\nx"',
        '    trailing: "a \\nb"',
        '    tab: "a\\tb\\nc"',
        '',
      ].join('\n'),
    );
  });

  it('writes sequences of sequences and refuses values YAML data cannot carry', () => {
    expect(toYaml([[1, 2], ['x']])).toBe('- - 1\n  - 2\n- - "x"\n');
    expect(() => toYaml({ x: Number.NaN })).toThrow(/non-finite/);
    expect(() => toYaml({ f: () => 1 })).toThrow(/function/);
  });
});
