import http, { type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve as serveHono } from '@hono/node-server'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import Koa from 'koa'
import safebody, {
  bodyRefusal,
  problemDetails as fastifyProblemDetails,
} from '../../src/fastify.js'
import { safeBody as honoSafeBody, validBody as honoBody } from '../../src/hono.js'
import {
  problemDetails as koaProblemDetails,
  safeBody as koaSafeBody,
  validBody as koaBody,
} from '../../src/koa.js'
import { createBodyReader, sendProblem } from '../../src/node.js'
import { frameworks, listen } from '../helpers/app.js'
import {
  availableFormats,
  bodyHash,
  buildCorpusApp,
  corpusOptions,
  laterCode,
  type CorpusApp,
} from './corpus-app.js'

/** A corpus server on 127.0.0.1: its port, what its handlers saw, and how to stop it. */
export interface CorpusServer {
  port: number
  seen: CorpusApp['seen']
  close(): Promise<void> | void
}

const corpusRoutes = ['open', 'strict', 'tight', 'slow', 'unbound']

function newSeen(): CorpusApp['seen'] {
  return { bodies: [], errors: [], hashes: [] }
}

/** Take an accepted body as the Express corpus app does; the JSON answer it sends. */
function accept(seen: CorpusApp['seen'], body: unknown): string {
  seen.bodies.push(body)
  seen.hashes.push(bodyHash(body))
  laterCode(body)
  return JSON.stringify({ hash: seen.hashes.at(-1) })
}

async function expressServer(express: (typeof frameworks)[number][1]): Promise<CorpusServer> {
  const { app, seen } = buildCorpusApp(express)
  const { server, port } = await listen(app)
  return { port, seen, close: () => stop(server) }
}

/** The corpus app on node:http with safebody/node's reader. */
async function nodeServer(): Promise<CorpusServer> {
  const seen = newSeen()
  const read = createBodyReader(corpusOptions(availableFormats()))
  const paths = new Set(
    availableFormats().flatMap((format) => corpusRoutes.map((route) => `/${route}/${format}`)),
  )
  const server = http.createServer((req, res) => {
    // The routes the Express corpus app has; anything else is a 404 that reads nothing.
    if (req.method !== 'POST' || !paths.has(req.url ?? '')) {
      res.writeHead(404, { connection: 'close' })
      return res.end()
    }
    read(req, res).then(
      (body) => {
        const answer = accept(seen, body)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(answer)
      },
      (err: unknown) => {
        seen.errors.push(err)
        if (!sendProblem(res, err)) {
          res.writeHead(500)
          res.end()
        }
      },
    )
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { port: (server.address() as AddressInfo).port, seen, close: () => stop(server) }
}

/** The corpus app on fastify with the safebody plugin, bound through its `routes` option. */
async function fastifyServer(): Promise<CorpusServer> {
  const seen = newSeen()
  const app = Fastify()
  await app.register(safebody, corpusOptions(availableFormats()))
  app.setErrorHandler((error: Error, request, reply) => {
    seen.errors.push(bodyRefusal(error))
    return fastifyProblemDetails()(error, request, reply)
  })
  for (const format of availableFormats()) {
    for (const route of corpusRoutes) {
      app.post(`/${route}/${format}`, async (request, reply) =>
        reply.type('application/json').send(accept(seen, request.body)),
      )
    }
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: (app.server.address() as AddressInfo).port,
    seen,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

/** The corpus routes' paths, for the servers that route by hand. */
function corpusPaths(): Set<string> {
  return new Set(
    availableFormats().flatMap((format) => corpusRoutes.map((route) => `/${route}/${format}`)),
  )
}

/** The corpus app on Koa with safebody/koa, refusals answered by its problemDetails(). */
async function koaServer(): Promise<CorpusServer> {
  const seen = newSeen()
  const paths = corpusPaths()
  const app = new Koa()
  app.silent = true
  app.use(koaProblemDetails())
  // Inside problemDetails(), which answers the refusals it knows and rethrows nothing else.
  app.use(async (_ctx, next) => {
    try {
      await next()
    } catch (err) {
      seen.errors.push(err)
      throw err
    }
  })
  app.use(koaSafeBody(corpusOptions(availableFormats())))
  app.use((ctx) => {
    if (ctx.method !== 'POST' || !paths.has(ctx.path)) return
    ctx.type = 'application/json'
    ctx.body = accept(seen, koaBody(ctx))
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return { port: (server.address() as AddressInfo).port, seen, close: () => stop(server) }
}

/** The corpus app on Hono (@hono/node-server) with safebody/hono. */
async function honoServer(): Promise<CorpusServer> {
  const seen = newSeen()
  const app = new Hono()
  app.use(honoSafeBody(corpusOptions(availableFormats())))
  for (const path of corpusPaths()) {
    app.post(path, (c) =>
      c.body(accept(seen, honoBody(c)), 200, { 'content-type': 'application/json' }),
    )
  }
  app.onError((err) => {
    seen.errors.push(err instanceof HTTPException ? err.cause : err)
    if (err instanceof HTTPException) return err.getResponse()
    return new Response('server fault', { status: 500 })
  })
  const server = await new Promise<Server>((resolve) => {
    const s = serveHono({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(s as unknown as Server),
    )
  })
  return { port: (server.address() as AddressInfo).port, seen, close: () => stop(server) }
}

function stop(server: Server): void {
  server.closeAllConnections()
  server.close()
}

/** Every server the attack corpus runs through. */
export const corpusServers: ReadonlyArray<readonly [string, () => Promise<CorpusServer>]> = [
  ...frameworks.map(([name, express]) => [name, () => expressServer(express)] as const),
  ['node:http', nodeServer],
  ['fastify', fastifyServer],
  ['koa', koaServer],
  ['hono', honoServer],
]
