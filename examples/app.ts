// The example API: three routes bound to the schemas in ../schemas, every body checked at
// the door. examples/server.ts serves it; the tests drive it too.
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { problemDetails, safeBody } from 'safebody'

const schemas = fileURLToPath(new URL('../schemas', import.meta.url))
const proto = fileURLToPath(new URL('../proto', import.meta.url))

export const app = express()
app.use(
  safeBody({
    schemas, // user.json, address.json, order.json: keyed by $id and by file name
    proto, // demo.proto: the message type protobuf bodies decode as
    routes: {
      // JSON, MessagePack and YAML by default; protobuf too, since a message type is bound.
      'POST /users': { schema: 'user', message: 'demo.User' },
      'PUT /users/:id': 'user',
      'POST /orders': { schema: 'order', required: true },
    },
    limit: '100kb',
  }),
)

const users = new Map<string, unknown>()
app.post('/users', (req, res) => {
  const id = randomUUID()
  users.set(id, req.body)
  res.status(201).json({ id, ...req.body })
})
app.put('/users/:id', (req, res) => {
  users.set(req.params.id, req.body)
  res.json({ id: req.params.id, ...req.body })
})
app.post('/orders', (req, res) => {
  res.status(201).json({ id: randomUUID(), ...req.body })
})
app.get('/users', (_req, res) => {
  res.json([...users].map(([id, user]) => ({ id, ...(user as object) })))
})

app.use(problemDetails())
