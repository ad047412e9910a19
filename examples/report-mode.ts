/**
 * Rolling safebody out in report mode: every would-be refusal is logged with pino and
 * counted, the counters are exposed to Prometheus at /metrics, one route is already
 * enforced, and a GitHub webhook route refuses every unsigned or mis-signed delivery.
 *
 *   npm run build && npx tsx examples/report-mode.ts     (PORT, default 3002)
 *   curl -s localhost:3002/users -H 'content-type: application/json' -d '{"name":1}'
 *   curl -s localhost:3002/metrics | grep safebody
 */
import { createHmac } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import express from 'express'
import pino from 'pino'
import { Counter, Registry } from 'prom-client'
import { problemDetails, safeBody } from 'safebody'

export const logger = pino({ name: 'report-mode' })
const webhookSecret = process.env.GITHUB_WEBHOOK_SECRET ?? 'dev-only-secret'

const user = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    email: { type: 'string', format: 'email' },
  },
  required: ['name'],
  additionalProperties: false,
} as const
const push = {
  type: 'object',
  properties: { ref: { type: 'string' } },
  required: ['ref'],
} as const

export const body = safeBody({
  // Step one for the whole API: record, do not refuse. Dangerous bodies are refused anyway.
  mode: 'report',
  schemas: { user, push },
  routes: {
    'POST /users': 'user',
    // Tuned and flipped: this route refuses what fails its schema.
    'PUT /users/:id': { schema: 'user', mode: 'enforce' },
    // Signatures are checked in every mode; a webhook has no report phase to go through.
    'POST /hooks/github': {
      schema: 'push',
      mode: 'enforce',
      integrity: { preset: 'github', secret: webhookSecret },
    },
  },
  // Called after the request has gone on; a slow or failing logger cannot hold it up.
  onViolation: (event) =>
    logger.warn({ violation: event }, `safebody ${event.action} ${event.type}`),
})

const metrics = new Registry()
new Counter({
  name: 'safebody_violations_total',
  help: 'Bodies safebody refused, or would have refused (action="reported")',
  labelNames: ['route', 'format', 'type', 'action'] as const,
  registers: [metrics],
  // Read the middleware's own counters at scrape time.
  collect() {
    this.reset()
    for (const { route, format, type, action, count } of body.stats().counters) {
      this.inc({ route, format, type, action }, count)
    }
  },
})

export const app = express()
app.get('/metrics', async (_req, res) => {
  res.set('Content-Type', metrics.contentType).send(await metrics.metrics())
})
app.use(body)
app.post('/users', (req, res) => res.status(201).json({ created: req.body }))
app.put('/users/:id', (req, res) => res.json({ updated: req.body }))
app.post('/hooks/github', (req, res) => res.json({ received: req.body }))
app.use(problemDetails())

// Served when run directly; the tests import the app.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 3002)
  app.listen(port, () => {
    const sample = '{"ref":"refs/heads/main"}'
    const signature = `sha256=${createHmac('sha256', webhookSecret).update(sample).digest('hex')}`
    logger.info(`listening on http://localhost:${port}`)
    logger.info(
      `try: curl -s localhost:${port}/hooks/github -H 'content-type: application/json' ` +
        `-H 'x-hub-signature-256: ${signature}' -d '${sample}'`,
    )
  })
}
