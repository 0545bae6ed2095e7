/** Reading rendered dashboard HTML in tests: the text a person sees, and a block's text. */

/** HTML entities as Preact's renderer writes them, decoded. */
export function unescapeHtml(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The page's visible text: tags removed, entities decoded, whitespace collapsed. */
export function pageText(html: string): string {
  const body = html.replace(/<head>[\s\S]*?<\/head>/, '');
  return unescapeHtml(body.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
}

/** The decoded text of the element with this id (a `<pre>`, `<code>`…), or throws. */
export function preText(html: string, id: string): string {
  const match = new RegExp(`<(pre|code)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  if (match === null) throw new Error(`no element #${id} in the page`);
  return unescapeHtml(match[2]!);
}
