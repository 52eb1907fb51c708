import Fastify from 'fastify'
import jwt from '@fastify/jwt'
import websocket from '@fastify/websocket'
import wsBearer from '@wsauth/ws-bearer'
import { redactingLoggerOptions } from '@wsauth/core'
import { Writable } from 'node:stream'
import net from 'node:net'
import WebSocket from 'ws'

const lines = []
const stream = new Writable({ write (c, _e, cb) { lines.push(String(c)); cb() } })
const app = Fastify({ logger: { level: 'trace', stream, ...redactingLoggerOptions(['token']) } })
await app.register(jwt, { secret: 'x'.repeat(32), verify: { maxAge: '2s' } })
await app.register(websocket)
await app.register(wsBearer, { origins: ['http://good.test'], query: true, basic: { verifyPassword: async (u, p) => (u === 'u' && p === 'p' ? { subject: 'u' } : null) } })
app.get('/ws', { websocket: true }, (s, r) => { s.send('hello ' + r.identity.subject) })
await app.listen({ port: 0, host: '127.0.0.1' })
const port = app.server.address().port

function raw (req) {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(req))
    let buf = ''
    s.on('data', (d) => { buf += d; if (buf.includes('\r\n\r\n')) { s.destroy(); res(buf.split('\r\n')[0]) } })
    s.on('error', (e) => res('ERR ' + e.message))
    s.on('close', () => res(buf.split('\r\n')[0] || 'closed'))
  })
}
const upg = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nHost: x\r\n'
const token = app.jwt.sign({ sub: 'alice' })
// 1. fragment smuggling of the query token
console.log('fragment:', await raw(`GET /ws?x=1#&token=${token} HTTP/1.1\r\n${upg}\r\n`))
await new Promise((r) => setTimeout(r, 100))
console.log('token in logs:', lines.filter((l) => l.includes(token)).map((l) => l.slice(0, 300)))
// 1b. 404 with '#'
await raw(`GET /nope?x=1#&token=SECRET404 HTTP/1.1\r\nHost: x\r\n\r\n`)
await new Promise((r) => setTimeout(r, 100))
console.log('404 token in logs:', lines.filter((l) => l.includes('SECRET404')).map((l) => l.slice(0, 300)))
// 2. Basic without Origin (ambient)
const basic = Buffer.from('u:p').toString('base64')
console.log('basic no origin:', await raw(`GET /ws HTTP/1.1\r\n${upg}Authorization: Basic ${basic}\r\n\r\n`))
console.log('basic evil origin:', await raw(`GET /ws HTTP/1.1\r\n${upg}Origin: http://evil.test\r\nAuthorization: Basic ${basic}\r\n\r\n`))
// 3. maxAge memo
console.log('maxAge first:', await raw(`GET /ws HTTP/1.1\r\n${upg}Authorization: Bearer ${token}\r\n\r\n`))
await new Promise((r) => setTimeout(r, 3500))
try { app.jwt.verify(token); console.log('jwt.verify still ok?!') } catch (e) { console.log('jwt.verify now:', e.code) }
console.log('maxAge after 3.5s:', await raw(`GET /ws HTTP/1.1\r\n${upg}Authorization: Bearer ${token}\r\n\r\n`))
const t2 = app.jwt.sign({ sub: 'bob' })
await new Promise((r) => setTimeout(r, 3500))
console.log('maxAge never-seen after 3.5s:', await raw(`GET /ws HTTP/1.1\r\n${upg}Authorization: Bearer ${t2}\r\n\r\n`))
await app.close()
