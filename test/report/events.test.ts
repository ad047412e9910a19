import request from 'supertest'
import { afterEach, describe, expect, it } from 'vitest'
import { safeBody, type ViolationEvent } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks, sendBytes } from '../helpers/app.js'
import { eventRecorder, tick } from '../helpers/violations.js'

const user = {
  type: 'object',
  properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
  required: ['name'],
  additionalProperties: false,
} as const

// Personal data a body may hold: no event may carry it unless asked to.
const secretValue = 'ada.lovelace@example.com'
const invalidBody = JSON.stringify({ name: 3, email: secretValue })

describe.each(frameworks)('violation events through %s', (_name, express) => {
  it('carry no body content by default', async () => {
    const { events, onViolation } = eventRecorder()
    const { app } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({ mode: 'report', schemas: { user }, routes: { 'POST /u': 'user' }, onViolation }),
      )
      app.post('/u', echo)
    })
    await sendBytes(request(app).post('/u?token=abc').type('json'), invalidBody)
    await sendBytes(request(app).post('/u').type('json'), `{"name":"${secretValue}",`)
    await tick()
    expect(events.map((e) => e.type)).toEqual(['entity.validation.failed', 'entity.parse.failed'])
    for (const event of events) {
      expect(event).not.toHaveProperty('excerpt')
      expect(JSON.stringify(event)).not.toContain(secretValue)
      expect(event.path).toBe('/u')
    }
  })

  it('quote and count a body that arrived in chunks', async () => {
    // Its bytes are joined for the event, not taken from the buffer it was decoded from.
    const { events, onViolation } = eventRecorder()
    const { app } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({
          schemas: { user },
          routes: { 'POST /u': 'user' },
          onViolation,
          excerpt: 12,
          limit: '1mb',
        }),
      )
      app.post('/u', echo)
    })
    const long = JSON.stringify({ name: 3, email: `${'x'.repeat(300_000)}@example.com` })
    expectRefusal(
      await sendBytes(request(app).post('/u').type('json'), long),
      422,
      'entity.validation.failed',
    )
    await tick()
    expect(events[0]).toMatchObject({ excerpt: long.slice(0, 12), bytes: long.length })
  })

  it('add a bounded excerpt when asked to', async () => {
    const { events, onViolation } = eventRecorder()
    const { app } = buildApp(express, (app, echo) => {
      app.use(
        safeBody({ schemas: { user }, routes: { 'POST /u': 'user' }, onViolation, excerpt: 12 }),
      )
      app.post('/u', echo)
    })
    expectRefusal(
      await sendBytes(request(app).post('/u').type('json'), invalidBody),
      422,
      'entity.validation.failed',
    )
    // Refused from the headers: nothing was read, so there is nothing to quote.
    expectRefusal(
      await sendBytes(request(app).post('/u').type('text/plain'), 'hello'),
      415,
      'content.type.unsupported',
    )
    await tick()
    expect(events[0]?.excerpt).toBe(invalidBody.slice(0, 12))
    expect(events[1]).not.toHaveProperty('excerpt')
    expect(events[1]).toMatchObject({ bytes: 5, format: null, contentType: 'text/plain' })
  })

  it('are delivered after the request has gone on, not before', async () => {
    const { events, onViolation } = eventRecorder()
    const seenAtHandler: number[] = []
    const { app } = buildApp(express, (app) => {
      app.use(
        safeBody({ mode: 'report', schemas: { user }, routes: { 'POST /u': 'user' }, onViolation }),
      )
      app.post('/u', (_req, res) => {
        seenAtHandler.push(events.length)
        res.sendStatus(204)
      })
    })
    expect((await sendBytes(request(app).post('/u').type('json'), invalidBody)).status).toBe(204)
    await tick()
    expect(seenAtHandler).toEqual([0])
    expect(events).toHaveLength(1)
  })
})

describe.each(frameworks)('a failing or slow onViolation through %s', (_name, express) => {
  const warnings: Error[] = []
  const onWarning = (warning: Error) => warnings.push(warning)
  afterEach(() => {
    process.off('warning', onWarning)
  })

  function appWith(onViolation: (event: ViolationEvent) => unknown) {
    return buildApp(express, (app, echo) => {
      app.use(
        safeBody({ mode: 'report', schemas: { user }, routes: { 'POST /u': 'user' }, onViolation }),
      )
      app.post('/u', echo)
    })
  }

  it('never breaks the request when it throws, and warns once', async () => {
    process.on('warning', onWarning)
    warnings.length = 0
    let calls = 0
    const { app } = appWith(() => {
      calls++
      throw new Error('log sink down')
    })
    for (let i = 0; i < 3; i++) {
      const res = await sendBytes(request(app).post('/u').type('json'), invalidBody)
      expect(res.status).toBe(200)
    }
    expectRefusal(
      await sendBytes(request(app).post('/u').type('json'), '{'),
      400,
      'entity.parse.failed',
    )
    await tick()
    await new Promise((resolve) => process.nextTick(resolve))
    expect(calls).toBe(4)
    const ours = warnings.filter(
      (w) => (w as { code?: string }).code === 'SAFEBODY_VIOLATION_HANDLER',
    )
    expect(ours).toHaveLength(1)
    expect(ours[0]?.message).toContain('log sink down')
  })

  it('never breaks the request when it rejects', async () => {
    process.on('warning', onWarning)
    warnings.length = 0
    let calls = 0
    const { app } = appWith(async () => {
      calls++
      throw new Error('async sink down')
    })
    expect((await sendBytes(request(app).post('/u').type('json'), invalidBody)).status).toBe(200)
    await tick()
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(1)
    const ours = warnings.filter(
      (w) => (w as { code?: string }).code === 'SAFEBODY_VIOLATION_HANDLER',
    )
    expect(ours.map((w) => w.message)).toEqual([
      'safebody: the onViolation handler failed: async sink down',
    ])
  })

  it('never delays the request when it does not settle', async () => {
    let started = 0
    // A handler that would hold the request for ever if the request waited on it.
    const { app } = appWith(() => {
      started++
      return new Promise(() => {})
    })
    const reported = await sendBytes(request(app).post('/u').type('json'), invalidBody)
    expect(reported.status).toBe(200)
    const refused = await sendBytes(request(app).post('/u').type('json'), '[')
    expectRefusal(refused, 400, 'entity.parse.failed')
    await tick()
    expect(started).toBe(2)
  })
})

describe('safeBody() event options', () => {
  it('refuses a bad onViolation or excerpt at start-up', () => {
    expect(() => safeBody({ onViolation: 'log' as never })).toThrow(
      /onViolation must be a function/,
    )
    expect(() => safeBody({ excerpt: -1 })).toThrow(/excerpt/)
    expect(() => safeBody({ excerpt: 4096 })).toThrow(/excerpt/)
    expect(() => safeBody({ mode: 'audit' as never })).toThrow(/mode must be/)
    expect(() => safeBody({ routes: { 'POST /a': { schema: {}, mode: 'off' as never } } })).toThrow(
      /route "POST \/a": mode must be/,
    )
  })
})
