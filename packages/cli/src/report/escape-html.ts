/**
 * Escapes text for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and `'`
 * become entities, so data-derived names (class names, file and folder names) can never open a
 * tag, close an attribute or start a script.
 *
 * ```ts
 * escapeHtml('<script>"&\''); // '&lt;script&gt;&quot;&amp;&#39;'
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
