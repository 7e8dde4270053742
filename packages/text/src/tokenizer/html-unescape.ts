/**
 * A subset of Python's `html.unescape`: numeric references (`&#65;`, `&#x41;`, with Python's
 * replacements for invalid code points) and the common named entities below. Python knows all
 * 2,231 HTML5 entities; rarer names are left as they are here.
 */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '\u00a9', reg: '\u00ae', trade: '\u2122',
  hellip: '\u2026', mdash: '\u2014', ndash: '\u2013', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d',
  laquo: '\u00ab', raquo: '\u00bb', deg: '\u00b0', plusmn: '\u00b1', times: '\u00d7', divide: '\u00f7', middot: '\u00b7',
  euro: '\u20ac', pound: '\u00a3', yen: '\u00a5', cent: '\u00a2', sect: '\u00a7', para: '\u00b6', bull: '\u2022',
  eacute: '\u00e9', egrave: '\u00e8', aacute: '\u00e1', agrave: '\u00e0', ccedil: '\u00e7', uuml: '\u00fc', ouml: '\u00f6',
  auml: '\u00e4', szlig: '\u00df', ntilde: '\u00f1', iexcl: '\u00a1', iquest: '\u00bf', shy: '\u00ad',
};
/** Named entities Python also accepts without the trailing semicolon (the HTML4 legacy set, common part). */
const NO_SEMICOLON = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'copy', 'reg', 'deg', 'times', 'eacute', 'egrave', 'aacute', 'agrave', 'ccedil', 'uuml', 'ouml', 'auml', 'szlig', 'ntilde', 'laquo', 'raquo', 'plusmn', 'divide', 'middot', 'pound', 'yen', 'cent', 'sect', 'para', 'iexcl', 'iquest', 'shy']);
/** Python's replacements of invalid numeric references (the Windows-1252 block). */
const INVALID_CHARREFS: Readonly<Record<number, string>> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e', 0x85: '\u2026',
  0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8d: '\x8d',
  0x8e: '\u017d', 0x8f: '\x8f', 0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022',
  0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d',
  0x9e: '\u017e', 0x9f: '\u0178',
};

/** Python's `_invalid_codepoints`: controls and noncharacters, dropped. */
function isInvalidCodepoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

function numeric(body: string): string | null {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1);
  if (digits === '' || !(hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)) return null;
  const num = Number.parseInt(digits, hex ? 16 : 10);
  if (num in INVALID_CHARREFS) return INVALID_CHARREFS[num]!;
  if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
  if (isInvalidCodepoint(num)) return '';
  return String.fromCodePoint(num);
}

/** Unescapes HTML character references in `text` (see the module comment for the subset). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/g, (match, body: string) => {
    if (body[0] === '#') {
      const r = numeric(body.replace(/;$/, ''));
      return r ?? match;
    }
    if (body.endsWith(';')) {
      const name = body.slice(0, -1);
      if (name in NAMED) return NAMED[name]!;
    } else if (NO_SEMICOLON.has(body)) {
      return NAMED[body]!;
    }
    // longest legacy prefix without semicolon, as Python does
    for (let x = body.length - 1; x > 1; x--) {
      const name = body.slice(0, x);
      if (NO_SEMICOLON.has(name)) return NAMED[name]! + body.slice(x);
    }
    return match;
  });
}
