/**
 * The HTTP candidates: each a server taking `POST /orders` with the order schema and
 * answering `{"ok":true}` once the body is checked. Each runs alone in a child process
 * (see server.ts) so that the load generator never shares its event loop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import bodyParser from 'body-parser'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import { fastify } from 'fastify'
import safebodyPlugin from '../../dist/esm/fastify.js'
import { safeBody } from '../../dist/esm/index.js'
import { createBodyReader } from '../../dist/esm/node.js'
import { baselineValidator } from '../lib/ajv.js'
import { orderZod, parseOrder } from '../lib/zod.js'
import { orderSchema } from '../payloads.js'

/** How the servers are configured: the body limit every candidate gets. */
export interface ServerSettings {
  /** Largest body, in bytes; the same for every candidate. */
  readonly limit: number
}

export type StartServer = (settings: ServerSettings) => Promise<Server>

/** The candidate's name in the tables, and how to start it. */
export interface ServerKind {
  readonly label: string
  readonly start: StartServer
}

const ok = '{"ok":true}'

/** The usual ajv middleware: validate req.body with the compiled schema, 422 if it fails. */
function ajvMiddleware(): RequestHandler {
  const validate = baselineValidator(orderSchema)
  return (req, res, next) => {
    if (validate(req.body)) return next()
    res.status(422).json({ errors: validate.errors })
  }
}

/** zod on req.body, as apps use it behind express.json(): 422 if it fails, else its output. */
function zodMiddleware(): RequestHandler {
  return (req, res, next) => {
    const output = parseOrder(req.body)
    if (output === null) {
      res.status(422).json({ error: 'invalid' })
      return
    }
    req.body = output
    next()
  }
}

/** Collect the bytes, JSON.parse, validate: the cheapest middleware that does the job. */
function minimalMiddleware(): RequestHandler {
  const validate = baselineValidator(orderSchema)
  return (req, res, next) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      let value: unknown
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        res.status(400).json({ error: 'malformed' })
        return
      }
      if (!validate(value)) {
        res.status(422).json({ errors: validate.errors })
        return
      }
      req.body = value
      next()
    })
  }
}

/** Read the body and throw it away: the ceiling of any Express body middleware. */
const drainMiddleware: RequestHandler = (req, _res, next) => {
  req.on('data', () => {})
  req.on('end', () => next())
}

function expressApp(...middleware: RequestHandler[]): Server {
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.use(...middleware)
  app.post('/orders', (_req, res) => {
    res.type('application/json').send(ok)
  })
  app.use(((err, _req, res, _next) => {
    res.status((err as { status?: number }).status ?? 500).json({ error: String(err.type) })
  }) as ErrorRequestHandler)
  return createServer(app)
}

function safeBodyApp(limit: number, extra: Record<string, unknown>): Server {
  // The options object is widened so that an option another branch adds (mode) type-checks
  // here; safeBody() itself still refuses an unknown key at start-up.
  const options: Parameters<typeof safeBody>[0] = {
    schemas: { order: orderSchema },
    routes: { 'POST /orders': 'order' },
    limit,
    ...extra,
  }
  return expressApp(safeBody(options) as RequestHandler)
}

export const serverKinds: Record<string, ServerKind> = {
  bare: {
    label: 'node:http, buffer + JSON.parse + ajv (limit)',
    start: async () => {
      const validate = baselineValidator(orderSchema)
      return createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = []
        req.on('data', (chunk: Buffer) => chunks.push(chunk))
        req.on('end', () => {
          let status = 200
          try {
            if (!validate(JSON.parse(Buffer.concat(chunks).toString('utf8')))) status = 422
          } catch {
            status = 400
          }
          res.writeHead(status, { 'content-type': 'application/json' })
          res.end(ok)
        })
      })
    },
  },
  drain: {
    label: 'Express 5, drain only (ceiling)',
    start: async () => expressApp(drainMiddleware),
  },
  minimal: {
    label: 'Express 5, collect + JSON.parse + ajv',
    start: async () => expressApp(minimalMiddleware()),
  },
  expressJson: {
    label: 'Express 5, express.json() + ajv (status quo)',
    start: async ({ limit }) => expressApp(express.json({ limit }), ajvMiddleware()),
  },
  bodyParser: {
    label: 'Express 5, body-parser.json() + ajv',
    start: async ({ limit }) => expressApp(bodyParser.json({ limit }), ajvMiddleware()),
  },
  safeBody: {
    label: 'Express 5, safeBody',
    start: async ({ limit }) => safeBodyApp(limit, {}),
  },
  safeBodyReport: {
    label: 'Express 5, safeBody (report mode)',
    start: async ({ limit }) => safeBodyApp(limit, { mode: 'report' }),
  },
  expressJsonZod: {
    label: 'Express 5, express.json() + zod',
    start: async ({ limit }) => expressApp(express.json({ limit }), zodMiddleware()),
  },
  safeBodyZod: {
    label: 'Express 5, safeBody + zod',
    start: async ({ limit }) =>
      expressApp(safeBody({ routes: { 'POST /orders': orderZod }, limit }) as RequestHandler),
  },
  safeBodyNode: {
    label: 'node:http, safebody/node',
    start: async ({ limit }) => {
      const read = createBodyReader({
        schemas: { order: orderSchema },
        routes: { 'POST /orders': 'order' },
        limit,
      })
      const answer = (res: ServerResponse, status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(body)
      }
      return createServer((req: IncomingMessage, res: ServerResponse) => {
        read(req, res).then(
          () => answer(res, 200, ok),
          (err: { status?: number; type?: string }) =>
            answer(res, err.status ?? 500, JSON.stringify({ error: String(err.type) })),
        )
      })
    },
  },
  fastify: {
    label: 'fastify, route schema (reference)',
    start: async ({ limit }) => {
      const app = fastify({ bodyLimit: limit, logger: false })
      app.post('/orders', { schema: { body: orderSchema } }, async (_req, reply) => {
        reply.type('application/json').send(ok)
      })
      await app.ready()
      return app.server
    },
  },
  safeBodyFastify: {
    label: 'fastify, safebody/fastify (route schema as binding)',
    start: async ({ limit }) => {
      const app = fastify({ bodyLimit: limit, logger: false })
      await app.register(safebodyPlugin, { limit })
      app.post('/orders', { schema: { body: orderSchema } }, async (_req, reply) => {
        reply.type('application/json').send(ok)
      })
      await app.ready()
      return app.server
    },
  },
}

/** The status quo every HTTP ratio is taken against. */
export const statusQuo = 'expressJson'
