// The example API: three routes bound to the schemas in ../schemas, every body checked at
// the door. examples/server.ts serves it; the tests drive it too.
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import express from 'express'
import { problemDetails, safeBody } from 'safebody'

const schemas = fileURLToPath(new URL('../schemas', import.meta.url))
const proto = fileURLToPath(new URL('../proto', import.meta.url))

// The schemas live in JSON files, which the compiler cannot read types from, so their
// types are declared here once; `route(id)` then types each handler's req.body, no casts.
interface User {
  name: string
  email: string
  age?: number
  tags?: string[]
  role?: 'ROLE_UNSPECIFIED' | 'ROLE_MEMBER' | 'ROLE_ADMIN'
}
interface Address {
  street: string
  city: string
  postcode?: string
}
interface Order {
  items: Array<{ sku: string; quantity: number }>
  shipTo: Address
}

const bodies = safeBody<{ user: User; order: Order }>({
  schemas, // user.json, address.json, order.json: keyed by $id and by file name
  proto, // demo.proto: the message type protobuf bodies decode as
  routes: {
    // JSON, MessagePack and YAML by default; protobuf too, since a message type is bound.
    'POST /users': { schema: 'user', message: 'demo.User', required: true },
    'PUT /users/:id': { schema: 'user', required: true },
    'POST /orders': { schema: 'order', required: true },
  },
  limit: '100kb',
})

export const app = express()
// The route table is the allow-list: a body on any route not in it is refused with 415.
app.use(bodies)

const users = new Map<string, User>()
app.post('/users', bodies.route('user'), (req, res) => {
  const id = randomUUID()
  users.set(id, req.body)
  res.status(201).json({ id, ...req.body })
})
app.put('/users/:id', bodies.route('user'), (req, res) => {
  users.set(req.params.id, req.body)
  res.json({ id: req.params.id, ...req.body })
})
app.post('/orders', bodies.route('order'), (req, res) => {
  const units = req.body.items.reduce((sum, item) => sum + item.quantity, 0)
  res.status(201).json({ id: randomUUID(), units, ...req.body })
})
app.get('/users', (_req, res) => {
  res.json([...users].map(([id, user]) => ({ id, ...user })))
})

app.use(problemDetails())
