import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { BodyError } from '../../src/errors.js'
import { type Format, formats } from '../../src/decoders/formats.js'
import { guardValue } from '../../src/core/guard.js'
import { formatTable } from '../../src/core/negotiate.js'
import { type RouteBinding, routePolicy } from '../../src/core/options.js'
import { compileRoute, noBody } from '../../src/core/route.js'
import { createRegistry } from '../../src/core/registry.js'
import { type Fallback, planRequest, settleBody, unread } from '../../src/core/report.js'

// A second format, so that "known to safebody but not allowed on this route" can be tested
// whatever formats the package ships: lines of `key=value`.
const lines = {
  name: 'json', // any FormatName: the fallback table is what is under test
  mediaTypes: ['text/x-lines'],
  textual: true,
  decode(bytes, context) {
    const value = Object.fromEntries(
      bytes
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=', 2)),
    )
    guardValue(value, context.limits)
    return value
  },
} satisfies Format

const schema = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 3 } },
  required: ['name'],
}

function setup(binding: Omit<RouteBinding, 'schema'>) {
  const registry = createRegistry({ schema })
  const policy = routePolicy({}, binding, 'test')
  const route = compileRoute('POST /x', 'schema', policy, registry)
  const global = routePolicy({ mode: binding.mode }, {}, 'global')
  const fallback: Fallback = {
    policy: global,
    context: { limits: global.limits },
    table: formatTable([formats.json, lines]),
  }
  const reported: BodyError[] = []
  return { route, fallback, reported, report: (err: BodyError) => reported.push(err) }
}

function request(headers: Record<string, string>): IncomingMessage {
  return { headers, method: 'POST' } as unknown as IncomingMessage
}

const csvLike = { 'content-type': 'text/x-lines', 'content-length': '7' }

describe('planRequest and settleBody', () => {
  it('refuses a format the route does not allow in enforce mode', () => {
    const { route, fallback, report } = setup({})
    expect(() => planRequest(request(csvLike), route, fallback, report)).toThrow(
      expect.objectContaining({ type: 'content.type.unsupported', status: 415 }),
    )
  })

  it('decodes it with the route limits in report mode, and validates it', () => {
    const { route, fallback, reported, report } = setup({ mode: 'report' })
    const plan = planRequest(request(csvLike), route, fallback, report)
    expect(plan.format).toBe(lines)
    expect(reported.map((e) => e.type)).toEqual(['content.type.unsupported'])
    const value = settleBody(Buffer.from('name=a\n'), plan, lines, report)
    expect(value).toEqual({ name: 'a' })
    expect(reported.map((e) => e.type)).toEqual([
      'content.type.unsupported',
      'entity.validation.failed',
    ])
  })

  it('still guards what it decodes that way', () => {
    const { route, fallback, report } = setup({ mode: 'report', maxKeys: 1 })
    const plan = planRequest(request(csvLike), route, fallback, report)
    expect(() => settleBody(Buffer.from('a=1\nb=2\n'), plan, lines, report)).toThrow(
      expect.objectContaining({ type: 'entity.too.many.keys' }),
    )
    expect(() => settleBody(Buffer.from('__proto__=1\n'), plan, lines, report)).toThrow(
      expect.objectContaining({ type: 'entity.forbidden.key' }),
    )
  })

  it('leaves a type no format knows unread in report mode', () => {
    const { route, fallback, reported, report } = setup({ mode: 'report' })
    const plan = planRequest(
      request({ 'content-type': 'text/csv', 'content-length': '3' }),
      route,
      fallback,
      report,
    )
    expect(plan.format).toBe(unread)
    expect(reported.map((e) => e.type)).toEqual(['content.type.unsupported'])
  })

  it('refuses that body on a route that checks signatures: unread, it cannot be verified', () => {
    const { route, fallback, reported, report } = setup({
      mode: 'report',
      integrity: { preset: 'github', secret: 's' },
    })
    const signed = {
      'content-type': 'text/csv',
      'content-length': '3',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    }
    expect(() => planRequest(request(signed), route, fallback, report)).toThrow(
      expect.objectContaining({ type: 'content.type.unsupported' }),
    )
    expect(reported).toEqual([])
  })

  it('plans no body for a bodiless request on a required route in report mode', () => {
    const { route, fallback, reported, report } = setup({ mode: 'report', required: true })
    expect(planRequest(request({}), route, fallback, report).format).toBe(noBody)
    expect(reported.map((e) => e.type)).toEqual(['entity.missing'])
  })
})
