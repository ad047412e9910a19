import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import { serve as serveNode } from '@hono/node-server'
import Router from '@koa/router'
import express5, { type Request, type Response } from 'express'
import express4 from 'express4'
import { Hono } from 'hono'
import Koa from 'koa'
import { describe, it } from 'vitest'
import { expectPrototypesUntouched } from '../helpers/app.js'
import {
  contractLimited,
  contractUser,
  contractUserStrict,
  expectHeldToBoth,
  served,
} from '../adapters/contract.js'

// Node's dual package hazard: an application imports safebody (its ESM build) while a library
// it uses requires it (the CommonJS build), or the other way round. A global instance of one
// build and a per-route instance of the other hold one body to both their rules, as two
// instances of one build do, where the second answered 500 ("safebody must run before any
// other body parser"). Through the package's own `exports`, built by `npm run build`.
const require = createRequire(import.meta.url)
type Express = typeof import('safebody')
type KoaEntry = typeof import('safebody/koa')
type HonoEntry = typeof import('safebody/hono')
const builds = async <T>(name: string): Promise<Array<[string, T, T]>> => {
  const esm = (await import(/* @vite-ignore */ name)) as T
  const cjs = require(name) as T
  return [
    ['global ESM, per-route CommonJS', esm, cjs],
    ['global CommonJS, per-route ESM', cjs, esm],
  ]
}
const globalOptions = { 'POST /users': contractUser, 'POST /limited': { type: 'object' } }

async function expectHeldToBothOn(server: Server): Promise<void> {
  const { baseUrl, close } = await served(server)
  try {
    await expectHeldToBoth(baseUrl)
    expectPrototypesUntouched()
  } finally {
    close()
  }
}

describe.each(await builds<Express>('safebody'))('Express, %s', (_name, first, second) => {
  it.each([
    ['express 5', express5],
    ['express 4', express4],
  ] as const)('takes the body once, held to both (%s)', async (_express, express) => {
    const app = express()
    app.use(first.safeBody(globalOptions))
    const echo = (req: Request, res: Response) => res.json({ body: req.body })
    app.post('/users', second.safeBody().route(contractUserStrict), echo)
    app.post('/limited', second.safeBody().route(contractLimited), echo)
    app.use(second.problemDetails())
    await expectHeldToBothOn(app.listen(0, '127.0.0.1'))
  })
})

describe.each(await builds<KoaEntry>('safebody/koa'))('Koa, %s', (_name, first, second) => {
  it('takes the body once, held to both', async () => {
    const app = new Koa()
    app.use(first.problemDetails())
    app.use(first.safeBody(globalOptions))
    const router = new Router()
    router.post('/users', second.safeBody().route(contractUserStrict), (ctx) => {
      ctx.body = { body: ctx.request.body }
    })
    router.post('/limited', second.safeBody().route(contractLimited), (ctx) => {
      ctx.body = { body: ctx.request.body }
    })
    app.use(router.routes())
    await expectHeldToBothOn(app.listen(0, '127.0.0.1'))
  })
})

describe.each(await builds<HonoEntry>('safebody/hono'))('Hono, %s', (_name, first, second) => {
  it('takes the body once, held to both', async () => {
    const app = new Hono()
    app.use(first.safeBody(globalOptions))
    app.post('/users', second.safeBody().route(contractUserStrict), (c) =>
      c.json({ body: second.validBody(c) }),
    )
    app.post('/limited', second.safeBody().route(contractLimited), (c) =>
      c.json({ body: second.validBody(c) }),
    )
    await expectHeldToBothOn(
      serveNode({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server,
    )
  })
})
