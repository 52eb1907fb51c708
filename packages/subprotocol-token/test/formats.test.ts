// The pure helpers a client uses to offer a token, and a round trip of awkward tokens through a real server.
import t from 'tap'
import {
  JUPYTER_MARKER, TOKEN_PREFIXES, subprotocolsWithToken, tokenSubprotocol, type SubprotocolFormat,
} from '@wsauth/subprotocol-token'
import { nextMessage, opened } from '../../../test/helpers/ws.ts'
import { FORMATS, build } from './fixture.ts'

// What a browser accepts as a subprotocol (RFC 6455 §4.1, Blink's IsValidSubprotocolCharacter).
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const AWKWARD = ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig', 'a b/c+d=e', 'f(o)o!*\'~', 'jürgen ✓ 🔑', '%41%', ',;"\\']

t.test('tokenSubprotocol: a valid subprotocol that decodes back to the token', async (t) => {
  const jwt = AWKWARD[0]!
  t.equal(tokenSubprotocol(jwt, 'kubernetes'), `base64url.bearer.authorization.k8s.io.${Buffer.from(jwt).toString('base64url')}`)
  t.equal(tokenSubprotocol(jwt, 'wsauth'), `base64url.bearer.wsauth.${Buffer.from(jwt).toString('base64url')}`)
  t.equal(tokenSubprotocol(jwt, 'jupyter'), `v1.token.websocket.jupyter.org.${jwt}`, 'a JWT needs no escaping')
  t.equal(tokenSubprotocol('f(o)o', 'jupyter'), 'v1.token.websocket.jupyter.org.f%28o%29o', 'parentheses are escaped, not left as separators')
  for (const format of FORMATS) {
    for (const token of AWKWARD) {
      const protocol = tokenSubprotocol(token, format)
      t.match(protocol, SUBPROTOCOL, `${format} ${JSON.stringify(token)}: valid`)
      t.ok(protocol.startsWith(TOKEN_PREFIXES[format]))
    }
  }
})

t.test('tokenSubprotocol refuses what it cannot offer', async (t) => {
  for (const format of FORMATS) {
    t.throws(() => tokenSubprotocol('', format), TypeError, `${format}: an empty token carries nothing`)
    t.throws(() => tokenSubprotocol('a\uD800b', format), /valid Unicode text/, `${format}: a lone surrogate`)
  }
  t.throws(() => tokenSubprotocol('abc', 'phoenix' as SubprotocolFormat), /unknown token subprotocol format/)
  t.throws(() => tokenSubprotocol(undefined as unknown as string, 'wsauth'), TypeError)
})

t.test('subprotocolsWithToken: the list to hand to new WebSocket()', async (t) => {
  const token = 'abc.def'
  t.strictSame(subprotocolsWithToken(token, 'wsauth', ['echo.v1', 'chat.v2']), ['echo.v1', 'chat.v2', tokenSubprotocol(token, 'wsauth')])
  t.strictSame(subprotocolsWithToken(token, 'jupyter', ['echo.v1']), ['echo.v1', tokenSubprotocol(token, 'jupyter')])
  t.strictSame(subprotocolsWithToken(token, 'jupyter'), [JUPYTER_MARKER, tokenSubprotocol(token, 'jupyter')],
    'a JEP 121 client with no protocol of its own offers the marker')
  t.throws(() => subprotocolsWithToken(token, 'kubernetes'), /needs an application subprotocol/, 'a token alone would be refused')
  t.throws(() => subprotocolsWithToken(token, 'wsauth', []), /needs an application subprotocol/)
  t.throws(() => subprotocolsWithToken(token, 'wsauth', ['echo.v1', 'echo.v1']), /duplicated subprotocol/, 'browsers refuse duplicates')
  for (const bad of ['echo v1', 'echo,v1', '', 'a(b)', 'ü', JUPYTER_MARKER, tokenSubprotocol('other', 'wsauth')]) {
    t.throws(() => subprotocolsWithToken(token, 'wsauth', ['echo.v1', bad]), { name: 'TypeError', message: 'protocols[1] is not an application subprotocol' },
      JSON.stringify(bad))
  }
  try {
    subprotocolsWithToken(token, 'wsauth', [tokenSubprotocol('secret-token', 'kubernetes')])
  } catch (error) {
    t.notOk(String(error).includes(Buffer.from('secret-token').toString('base64url')), 'the message names no token')
  }
})

t.test('awkward tokens reach the verifier exactly, in every format (offered by ws, which checks names as browsers do)', async (t) => {
  const fx = await build(t, { guard: { verify: (token) => ({ subject: JSON.stringify(token) }) } })
  for (const format of FORMATS) {
    for (const token of AWKWARD) {
      const { socket, protocol } = await opened(fx.url(), { protocols: subprotocolsWithToken(token, format, ['echo.v1']) })
      t.equal(protocol, 'echo.v1')
      t.equal(await nextMessage(socket), `Welcome ${JSON.stringify(token)}!`, `${format} ${JSON.stringify(token)}`)
      socket.close()
    }
  }
})
