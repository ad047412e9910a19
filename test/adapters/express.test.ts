import express5, { type Request, type Response } from 'express'
import express4 from 'express4'
import { describe, it } from 'vitest'
import { problemDetails, safeBody } from '../../src/index.js'
import {
  contractGetPath,
  contractLimited,
  contractOptions,
  contractPaths,
  contractUser,
  contractUserStrict,
  describeContract,
  expectHeldToBoth,
  served,
} from './contract.js'

// The reference adapter answers the contract: the statuses and types every other adapter
// matches. On Express 5 and Express 4 alike.
for (const [name, express] of [
  ['express 5', express5],
  ['express 4', express4],
] as const) {
  describeContract(name, async () => {
    const app = express()
    app.use(safeBody(contractOptions()))
    for (const path of contractPaths) app.post(path, (req, res) => res.json({ body: req.body }))
    app.get(contractGetPath, (req, res) => res.json({ body: req.body }))
    app.use(problemDetails())
    return served(app.listen(0, '127.0.0.1'))
  })
}

describe.each([
  ['express 5', express5],
  ['express 4', express4],
] as const)('safeBody on %s', (_name, express) => {
  it('a per-route instance after a global one takes the body once, held to both', async () => {
    const app = express()
    app.use(safeBody({ 'POST /users': contractUser, 'POST /limited': { type: 'object' } }))
    const echo = (req: Request, res: Response) => res.json({ body: req.body })
    app.post('/users', safeBody().route(contractUserStrict), echo)
    app.post('/limited', safeBody().route(contractLimited), echo)
    app.use(problemDetails())
    const { baseUrl, close } = await served(app.listen(0, '127.0.0.1'))
    try {
      await expectHeldToBoth(baseUrl)
    } finally {
      close()
    }
  })
})
