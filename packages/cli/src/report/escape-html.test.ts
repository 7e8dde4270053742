import { describe, expect, it } from 'vitest';
import { escapeHtml } from './escape-html';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml('<script>alert("x")</script>')).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(escapeHtml(`"&'`)).toBe('&quot;&amp;&#39;');
    expect(escapeHtml('a&amp;b')).toBe('a&amp;amp;b');
  });
  it('leaves other text alone and stringifies non-strings', () => {
    expect(escapeHtml('T-shirt/top — Ankle boot ✓')).toBe('T-shirt/top — Ankle boot ✓');
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml(undefined)).toBe('undefined');
  });
  it('output never contains a raw < > " \' or a bare &', () => {
    const hostile = `<img src=x onerror="alert(1)"> ' " & </td></table><!-- &#x3c;`;
    const out = escapeHtml(hostile);
    expect(out).not.toMatch(/[<>"']/);
    expect(out.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
  });
});
