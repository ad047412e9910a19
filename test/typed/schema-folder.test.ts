import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import request from 'supertest'
import { describe, expect, test } from 'vitest'
import { safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks } from '../helpers/app.js'

const folder = (name: string) =>
  fileURLToPath(new URL(`../fixtures/schemas-folder/${name}`, import.meta.url))

describe('schemas: a folder', () => {
  test('loads *.json, *.yaml and *.yml, keyed by $id, file name and file stem', () => {
    const bodies = safeBody({ schemas: folder('good') })
    for (const id of [
      'user',
      'user.json',
      'https://example.com/schemas/user.json',
      'address',
      'address.yaml',
      'order',
      'order.yml',
      'item.json',
      'release',
    ]) {
      expect(() => bodies.route(id), id).not.toThrow()
    }
    expect(() => bodies.route('README')).toThrow(/no schema is registered as "README"/)
  })

  test('two schemas with one $id fail at start-up', () => {
    expect(() => safeBody({ schemas: folder('duplicate-id') })).toThrow(
      /two schemas are registered as "https:\/\/example.com\/schemas\/same.json"/,
    )
  })

  test('two files with one name fail at start-up', () => {
    expect(() => safeBody({ schemas: folder('duplicate-name') })).toThrow(
      /two schemas are registered as "user"/,
    )
  })

  test('YAML files are read with the core schema: no JavaScript tags', () => {
    expect(() => safeBody({ schemas: folder('unsafe-yaml') })).toThrow(
      /evil\.yaml" is not valid yaml: unknown scalar tag/,
    )
  })

  test('a YAML file whose aliases repeat past 10000 objects fails at start-up; a loop does not hang', () => {
    const dir = mkdtempSync(join(tmpdir(), 'safebody-schemas-'))
    try {
      // Each level's anchor is used twice by the next: 2^30 places from 30 lines.
      const levels = ['l0: &l0 {type: string}']
      for (let i = 1; i < 30; i++) levels.push(`l${i}: &l${i} {anyOf: [*l${i - 1}, *l${i - 1}]}`)
      writeFileSync(join(dir, 'bomb.yaml'), `$defs:\n${levels.map((l) => `  ${l}`).join('\n')}\n`)
      expect(() => safeBody({ schemas: dir })).toThrow(
        /bomb\.yaml" repeats more than 10000 objects \(YAML aliases/,
      )
      rmSync(join(dir, 'bomb.yaml'))
      writeFileSync(join(dir, 'loop.yaml'), 'properties:\n  a: &a\n    items: *a\n')
      expect(() => safeBody({ schemas: dir })).toThrow(/schema "loop" is not a valid JSON Schema/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a missing folder fails at start-up', () => {
    expect(() => safeBody({ schemas: folder('nowhere') })).toThrow(/cannot read the schema folder/)
  })
})

describe.each(frameworks)('$ref across files (%s)', (_name, express) => {
  const mount = () =>
    buildApp(express, (app, echo) => {
      const bodies = safeBody({ schemas: folder('good') })
      app.post('/users', bodies.route('user'), echo)
      app.post('/orders', bodies.route('order'), echo)
      app.post('/releases', bodies.route('release'), echo)
    })

  test('a JSON schema refers to a YAML one by relative $id', async () => {
    const { app, seen } = mount()
    const body = { name: 'Ada', address: { street: 'Main St', zip: '12345' } }
    const res = await request(app).post('/users').send(body)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([body])
  })

  test('the referenced schema is enforced', async () => {
    const { app, seen } = mount()
    const res = await request(app)
      .post('/users')
      .send({ name: 'Ada', address: { street: 'Main St', zip: 'abc' } })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    expect(res.body.errors[0]).toMatchObject({ instancePath: '/address/zip', keyword: 'pattern' })
  })

  test('a YAML schema without $id refers to a JSON one by file name', async () => {
    const { app, seen } = mount()
    expect(
      (
        await request(app)
          .post('/orders')
          .send({ items: [{ sku: 'a', quantity: 2 }] })
      ).status,
    ).toBe(200)
    const res = await request(app)
      .post('/orders')
      .send({ items: [{ sku: 'a', quantity: 0 }] })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(res.body.errors[0]).toMatchObject({ instancePath: '/items/0/quantity' })
    expect(seen.bodies).toHaveLength(1)
  })

  test('an unquoted YAML date is the string it reads as', async () => {
    const { app } = mount()
    expect((await request(app).post('/releases').send({ day: '2024-01-01' })).status).toBe(200)
  })
})
