import type { AddressInfo } from 'node:net'
import express5 from 'express'
import express4 from 'express4'
import { problemDetails, safeBody } from '../../src/index.js'
import { contractGetPath, contractOptions, contractPaths, describeContract } from './contract.js'

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
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        server.closeAllConnections()
        server.close()
      },
    }
  })
}
