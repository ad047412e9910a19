import type { AddressInfo } from 'node:net'
import express from 'express'
import { problemDetails, safeBody } from '../../src/index.js'
import { contractOptions, contractPaths, describeContract } from './contract.js'

// The reference adapter answers the contract: the statuses and types every other adapter matches.
describeContract('express', async () => {
  const app = express()
  app.use(safeBody(contractOptions()))
  for (const path of contractPaths) app.post(path, (req, res) => res.json({ body: req.body }))
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
