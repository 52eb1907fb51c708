import t from 'tap'
import { isToken, isToken68 } from '@wsauth/core'

t.test('isToken: RFC 9110 tchar, one or more', async (t) => {
  t.ok(isToken("!#$%&'*+-.^_`|~09AZaz"), 'every kind of tchar')
  t.ok(isToken('echo.v1'))
  t.ok(isToken('base64url.bearer.wsauth.ZXlK'))
  for (const bad of ['', 'a b', 'a,b', 'a;b', 'a/b', 'a=b', '(a)', '"a"', 'a\tb', 'é', 'a\u0000', '[a]', '{a}', 'a:b', 'a?b', 'a@b', 'a\\b']) {
    t.notOk(isToken(bad), JSON.stringify(bad))
  }
})

t.test('isToken68: RFC 9110 token68', async (t) => {
  t.ok(isToken68('aB0-._~+/'), 'every token68 character')
  t.ok(isToken68('abc='))
  t.ok(isToken68('abc=='))
  for (const bad of ['', '=', '=abc', 'ab=c', 'a b', 'a,b', 'a"b', 'a!b', 'é', 'a\u0000']) {
    t.notOk(isToken68(bad), JSON.stringify(bad))
  }
})
