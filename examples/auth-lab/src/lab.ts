import type { FastifyInstance } from 'fastify'
import { pageOrigins, type Config } from './config.js'
import { buildMethodApp } from './method-app.js'
import { METHODS, type MethodId } from './methods.js'
import { buildPageApp } from './page-app.js'

export interface RunningLab {
  /** The page server's address, as Fastify reports it. */
  pageAddress: string
  apps: ReadonlyMap<MethodId, FastifyInstance>
  close (): Promise<void>
}

/** Starts the page on the base port and one app per method on the base port plus its offset. */
export async function startLab (config: Config): Promise<RunningLab> {
  const origins = pageOrigins(config)
  const started: FastifyInstance[] = []
  const apps = new Map<MethodId, FastifyInstance>()
  const close = async (): Promise<void> => {
    await Promise.all(started.map((app) => app.close()))
  }
  try {
    const page = await buildPageApp(config)
    started.push(page)
    const pageAddress = await page.listen({ host: config.host, port: config.portBase })
    for (const method of METHODS) {
      const app = await buildMethodApp(method, config, [origins.sameSite, origins.crossSite])
      started.push(app)
      apps.set(method.id, app)
      await app.listen({ host: config.host, port: config.portBase + method.portOffset })
    }
    return { pageAddress, apps, close }
  } catch (error) {
    await close()
    throw error
  }
}
