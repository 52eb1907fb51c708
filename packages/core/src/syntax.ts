// The character rules of HTTP tokens, in one place. No imports and no Node APIs: browser modules import this file
// (`@wsauth/core/syntax`) as well as the server's parsers.

// RFC 9110 §5.6.2: token = 1*tchar. Header field names, auth-schemes, cookie names and WebSocket subprotocols (RFC 6455
// §4.1, as Blink's IsValidSubprotocolCharacter checks them) are all tokens.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// RFC 9110 §11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/** Whether `value` is a non-empty RFC 9110 token. */
export function isToken (value: string): boolean {
  return TOKEN.test(value)
}

/** Whether `value` is a non-empty RFC 9110 token68 (credentials of `Bearer` and `Basic`). */
export function isToken68 (value: string): boolean {
  return TOKEN68.test(value)
}
