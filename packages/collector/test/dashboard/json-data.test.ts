/** The data blocks of the dashboard's script: any value survives the page's escaping and never ends the block. */
import { readFileSync } from 'node:fs';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { JsonData } from '../../src/dashboard/views/json-data.js';

/** What assets/dashboard/dashboard.js does with a block's text. */
const readJson = (text: string): unknown => JSON.parse(text.replace(/&quot;/g, '"'));

describe('JsonData', () => {
  const cases = [
    { name: 'numbers and labels', data: { x: [1, 2], series: [{ label: 'Sent', values: [3, 4] }] } },
    { name: 'a closing script tag', data: { s: '</script><script>alert(1)</script>' } },
    { name: 'quotes and entities', data: { s: `"&quot;&amp;&lt;'` } },
    { name: 'line separators', data: { s: 'a\u2028b\u2029c' } },
  ];
  for (const { name, data } of cases) {
    it(`keeps ${name} intact`, () => {
      const html = renderToString(JsonData({ id: 'd', data }));
      const match = /^<script type="application\/json" id="d">([\s\S]*)<\/script>$/.exec(html);
      expect(match).not.toBeNull();
      expect(match![1]).not.toMatch(/[<\u2028\u2029]/);
      expect(readJson(match![1]!)).toEqual(data);
    });
  }

  it('is read by dashboard.js the way this test reads it', () => {
    const script = readFileSync(new URL('../../assets/dashboard/dashboard.js', import.meta.url), 'utf8');
    expect(script).toContain(`JSON.parse(block.textContent.replace(/&quot;/g, '"'))`);
  });
});
