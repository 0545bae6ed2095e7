/**
 * Data for the dashboard's script, in a `<script type="application/json">` block
 * (browsers never run it, and the CSP allows no inline script anyway).
 *
 * The block's text goes through Preact's escaping like any text: `"` becomes
 * `&quot;`, which a `<script>` element does not decode. So `<` and `&` are written
 * as the JSON escapes `\u003c` and `\u0026` first: the only entity left in the
 * text is `&quot;`, which `dashboard.js` turns back into `"` before `JSON.parse`,
 * and no `</script>` can ever appear in the block.
 */
export function JsonData({ id, data }: { id: string; data: unknown }) {
  const json = JSON.stringify(data).replace(/[<&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return (
    <script type="application/json" id={id}>
      {json}
    </script>
  );
}
