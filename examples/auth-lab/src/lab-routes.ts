import type { FastifyInstance } from 'fastify'
import cors from '@fastify/cors'
import type { LogRecord } from './log-record.js'
import type { SeenAttempts } from './seen.js'

export interface LabRoutesOptions {
  /** The page's origins: the only ones that may read these answers. */
  origins: string[]
  seen: SeenAttempts
  log: LogRecord
}

/** Longest credential the log check takes: the guard's own cap (core's default) is 4096. */
const MAX_CHECKED_LENGTH = 4096

/**
 * `GET /lab/seen?after=<seq>`: what the guard decided since then. `POST /lab/log-check` `{ credential }`: `found` or
 * `not found` in the app's log. CORS lets the page on the lab's origin read both; nothing else on the app gets CORS.
 */
export async function registerLabRoutes (app: FastifyInstance, options: LabRoutesOptions): Promise<void> {
  const { origins, seen, log } = options
  await app.register(async (lab) => {
    await lab.register(cors, { origin: origins, methods: ['GET', 'POST'] })
    lab.get('/seen', {
      schema: {
        querystring: {
          type: 'object',
          properties: { after: { type: 'integer', minimum: 0 } },
          additionalProperties: false,
        },
      },
    }, async (request) => {
      const { after } = request.query as { after?: number }
      return { last: seen.last, attempts: seen.after(after ?? seen.last) }
    })
    lab.post('/log-check', {
      schema: {
        body: {
          type: 'object',
          properties: { credential: { type: 'string', minLength: 1, maxLength: MAX_CHECKED_LENGTH } },
          required: ['credential'],
          additionalProperties: false,
        },
      },
    }, async (request) => {
      const { credential } = request.body as { credential: string }
      return { log: log.contains(credential) ? 'found' : 'not found' }
    })
  }, { prefix: '/lab' })
}
