/** Escapes text for an HTML attribute value in double quotes. */
function attribute (value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/**
 * The iframe page: no inline script (its script is the same-origin `iframe.js`), the allowed parents in a `<meta>`
 * for that script. Relative URLs resolve against `<prefix>/iframe`.
 */
export function iframePage (parents: readonly string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta name="wsauth-parents" content="${attribute(parents.join(' '))}">`,
    '<title>wsauth session</title>',
    '<script type="module" src="iframe.js"></script>',
    '</head>',
    '<body></body>',
    '</html>',
    '',
  ].join('\n')
}

/**
 * The iframe page's CSP: its own script and same-origin fetches only, and `frame-ancestors` naming exactly the allowed
 * parents, so no other page can even load it (the browser shows an error page instead, which answers no message).
 */
export function iframeCsp (parents: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${parents.join(' ')}`,
  ].join('; ')
}
