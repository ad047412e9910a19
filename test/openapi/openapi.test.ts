import { fileURLToPath } from 'node:url'
import request from 'supertest'
import { describe, expect, test } from 'vitest'
import { type SafeBodyOptions, safeBody } from '../../src/index.js'
import { buildApp, expectRefusal, frameworks } from '../helpers/app.js'

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/openapi/${name}`, import.meta.url))

describe.each(frameworks)('OpenAPI 3.0 document (%s)', (_name, express) => {
  const mount = () =>
    buildApp(express, (app, echo) => {
      app.use(safeBody({ openapi: fixture('petstore-3.0.yaml') }))
      app.use(echo)
    })

  test('a requestBody $ref to components/requestBodies, and its schema refs, resolve', async () => {
    const { app, seen } = mount()
    const pet = { name: 'Rex', tag: 'dog', owner: { email: 'a@example.com' }, age: 3 }
    const res = await request(app).post('/v1/pets').send(pet)
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([pet])
  })

  test('components/schemas refs are enforced', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/v1/pets').send({ name: 'Rex', tag: 'fish' })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    expect(res.body.errors[0]).toMatchObject({ instancePath: '/tag', keyword: 'enum' })
  })

  test('OpenAPI formats (int32) are checked', async () => {
    const { app, seen } = mount()
    const res = await request(app)
      .post('/v1/pets')
      .send({ name: 'Rex', age: 2 ** 40 })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
  })

  test('nullable: true admits null; without it, null is refused', async () => {
    const { app, seen } = mount()
    expect((await request(app).post('/v1/pets').send({ name: 'Rex', owner: null })).status).toBe(
      200,
    )
    expect((await request(app).post('/v1/pets/7').send({ note: null })).status).toBe(200)
    const res = await request(app).post('/v1/pets').send({ name: null })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(seen.bodies).toHaveLength(2)
  })

  test('exclusiveMinimum: true excludes the minimum', async () => {
    const { app, seen } = mount()
    expect((await request(app).post('/v1/pets/7').send({ weight: 0.5 })).status).toBe(200)
    const res = await request(app).post('/v1/pets/7').send({ weight: 0 })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(seen.bodies).toHaveLength(1)
  })

  test('required: true makes the body required; absent required, it may be left out', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/v1/pets')
    expectRefusal(res, 400, 'entity.missing', seen)
    expect((await request(app).post('/v1/pets/7')).status).toBe(200)
  })

  test('media types listed under content are the allowed formats, +json suffix included', async () => {
    const { app, seen } = mount()
    const ok = await request(app)
      .put('/v1/pets/7/tags')
      .set('Content-Type', 'application/vnd.petstore+json')
      .send(JSON.stringify(['cat']))
    expect(ok.status).toBe(200)
    const res = await request(app).put('/v1/pets/7/tags').type('text/plain').send('["cat"]')
    expectRefusal(res, 415, 'content.type.unsupported')
    expect(seen.bodies).toEqual([['cat']])
  })

  test('operations without a requestBody refuse bodies', async () => {
    const { app, seen } = mount()
    const res = await request(app).get('/v1/pets').send({ name: 'Rex' })
    expectRefusal(res, 415, 'route.schema.missing', seen)
  })

  test('a concrete path without requestBody shadows a template that has one', async () => {
    const { app, seen } = mount()
    const res = await request(app).post('/v1/pets/mine').send({ note: 'x' })
    expectRefusal(res, 415, 'route.schema.missing', seen)
  })

  test('paths outside the document refuse bodies, and so do paths without the server base', async () => {
    const { app, seen } = mount()
    expectRefusal(await request(app).post('/v1/owners').send({}), 415, 'route.schema.missing', seen)
    expectRefusal(
      await request(app).post('/pets').send({ name: 'Rex' }),
      415,
      'route.schema.missing',
      seen,
    )
  })
})

describe.each(frameworks)('OpenAPI 3.1 document (%s)', (_name, express) => {
  const mount = () =>
    buildApp(express, (app, echo) => {
      app.use(safeBody({ openapi: fixture('petstore-3.1.json') }))
      app.use(echo)
    })

  test('2020-12 schemas: type arrays, prefixItems, $ref with siblings', async () => {
    const { app, seen } = mount()
    const pet = { name: 'Rex', nickname: null, tags: ['cat'], size: 3 }
    expect((await request(app).post('/pets').send(pet)).status).toBe(200)
    expect(seen.bodies).toEqual([pet])
    const res = await request(app).post('/pets').send({ name: 'Rex', size: 0 })
    expectRefusal(res, 422, 'entity.validation.failed')
    expect(res.body.errors[0]).toMatchObject({ instancePath: '/size', keyword: 'exclusiveMinimum' })
  })

  test('a template with several parameters in one segment matches', async () => {
    const { app, seen } = mount()
    const res = await request(app).put('/pets/7/photos/me.v2.png').send({ caption: null })
    expect(res.status).toBe(200)
    expect(seen.bodies).toEqual([{ caption: null }])
  })

  test('GET without requestBody refuses a body', async () => {
    const { app, seen } = mount()
    expectRefusal(
      await request(app).get('/pets/7').send({ a: 1 }),
      415,
      'route.schema.missing',
      seen,
    )
  })
})

const petRef = { $ref: '#/components/schemas/Pet' }

/** An Express app whose OpenAPI document requires a body on POST /pets, held to `schema`. */
function petsApp(
  openapi: string,
  schema: object,
  schemas: Record<string, unknown>,
  options: Omit<SafeBodyOptions, 'openapi'> = {},
) {
  const pets = { required: true, content: { 'application/json': { schema } } }
  const document = { openapi, info: { title: 't', version: '1' }, components: { schemas } }
  return withSafeBody({
    ...options,
    openapi: { ...document, paths: { '/pets': { post: { requestBody: pets } } } },
  })
}

/** An Express 5 app: one global safebody instance with `options`, then an echo handler. */
function withSafeBody(options: SafeBodyOptions) {
  return buildApp(frameworks[0][1], (app, echo) => {
    app.use(safeBody(options))
    app.use(echo)
  })
}

describe.each(['3.0.3', '3.1.0'])(
  'readOnly properties in a request body (OpenAPI %s)',
  (openapi) => {
    // One Pet schema for requests and responses, as documents write it: `id` and `role` are
    // the server's, required in a response, never to be set by a client.
    const mount = () =>
      petsApp(openapi, petRef, {
        Id: { type: 'integer', readOnly: true },
        Pet: {
          type: 'object',
          required: ['id', 'name', 'role'],
          properties: {
            id: { $ref: '#/components/schemas/Id' },
            name: { type: 'string' },
            role: { type: 'string', readOnly: true },
          },
        },
      })

    test('are not required', async () => {
      const { app, seen } = mount()
      expect((await request(app).post('/pets').send({ name: 'Rex' })).status).toBe(200)
      expect(seen.bodies).toEqual([{ name: 'Rex' }])
    })

    test.each([
      ['on the property', { name: 'Rex', role: 'admin' }, '/role'],
      ['on the component its $ref names', { name: 'Rex', id: 1 }, '/id'],
    ])('are refused when sent (readOnly %s)', async (_where, body, instancePath) => {
      const { app, seen } = mount()
      const res = await request(app).post('/pets').send(body)
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect(res.body.errors[0]).toMatchObject({ instancePath })
    })

    test("an allOf branch's required leaves out the base's read-only properties", async () => {
      const schema = {
        allOf: [
          { $ref: '#/components/schemas/Base' },
          { type: 'object', required: ['id', 'name'] },
        ],
      }
      const { app, seen } = petsApp(openapi, schema, {
        Base: { type: 'object', properties: { id: { type: 'integer', readOnly: true } } },
      })
      expect((await request(app).post('/pets').send({ name: 'Rex' })).status).toBe(200)
      const res = await request(app).post('/pets').send({ id: 1, name: 'Rex' })
      expectRefusal(res, 422, 'entity.validation.failed')
      expect(res.body.errors[0]).toMatchObject({ instancePath: '/id' })
      expect(seen.bodies).toEqual([{ name: 'Rex' }])
    })

    test('other properties are still required', async () => {
      const { app, seen } = mount()
      const res = await request(app).post('/pets').send({})
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect(res.body.errors).toEqual([expect.objectContaining({ keyword: 'required' })])
      expect(res.body.errors[0].message).toMatch(/'name'/)
    })
  },
)

describe.each(['3.0.3', '3.1.0'])('a discriminator beside oneOf (OpenAPI %s)', (openapi) => {
  // Neither branch refuses the other's properties: oneOf alone refuses every Cat as
  // matching Dog too. The discriminator picks the one branch.
  const mount = (discriminator: object, ajv?: object) =>
    petsApp(
      openapi,
      petRef,
      {
        Pet: {
          oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
          discriminator,
        },
        Cat: {
          type: 'object',
          required: ['petType', 'name'],
          properties: { petType: { type: 'string' }, name: { type: 'string' } },
        },
        Dog: {
          type: 'object',
          required: ['petType'],
          // A discriminator's property marked readOnly must still be sent (never refused).
          properties: { petType: { type: 'string', readOnly: true }, bark: { type: 'boolean' } },
        },
      },
      ajv === undefined ? {} : { ajv },
    )

  test('by component name: the value picks the one schema the body is held to', async () => {
    const { app, seen } = mount({ propertyName: 'petType' })
    const cat = { petType: 'Cat', name: 'Tom' }
    expect((await request(app).post('/pets').send(cat)).status).toBe(200)
    expect(seen.bodies).toEqual([cat])
    for (const body of [
      { petType: 'Dog', bark: 'loud' },
      { petType: 'Cat' },
      { petType: 'Cow', name: 'Daisy' },
      { name: 'Tom' },
    ]) {
      const res = await request(app).post('/pets').send(body)
      expectRefusal(res, 422, 'entity.validation.failed')
    }
    expect(seen.bodies).toEqual([cat])
  })

  test('by mapping, to a $ref or a name; ajv discriminator: true does not object', async () => {
    const mapping = { cat: '#/components/schemas/Cat', dog: 'Dog' }
    const { app, seen } = mount({ propertyName: 'petType', mapping }, { discriminator: true })
    const dog = { petType: 'dog', bark: true }
    expect((await request(app).post('/pets').send(dog)).status).toBe(200)
    expectRefusal(
      await request(app).post('/pets').send({ petType: 'cat', bark: true }),
      422,
      'entity.validation.failed',
    )
    expect(seen.bodies).toEqual([dog])
  })
})

describe.each(['3.0.3', '3.1.0'])(
  'a discriminator on a base its branches inherit (OpenAPI %s)',
  (openapi) => {
    // Pet's oneOf names Cat and Dog, which are Pet plus their own properties (allOf): the
    // common inheritance pattern. Held to Pet whole, Cat's Pet would pick Cat again, forever.
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
    const mount = () =>
      petsApp(openapi, petRef, {
        Pet: {
          type: 'object',
          required: ['petType'],
          properties: { petType: { type: 'string' }, name: { type: 'string' } },
          oneOf: [ref('Cat'), ref('Dog')],
          discriminator: { propertyName: 'petType' },
        },
        Cat: { allOf: [ref('Pet'), { type: 'object', properties: { meow: { type: 'boolean' } } }] },
        Dog: {
          allOf: [
            ref('Pet'),
            { type: 'object', required: ['bark'], properties: { bark: { type: 'boolean' } } },
          ],
        },
      })

    test('a branch inheriting the base through an alias of it fails at start-up', () => {
      // `Animal: { $ref: Pet }` is used elsewhere, where it must pick among Cat and Dog: Cat's
      // base through it is Pet whole, whose discriminator picks Cat again (a loop).
      const pet = {
        type: 'object',
        properties: { petType: { type: 'string' } },
        oneOf: [ref('Cat')],
        discriminator: { propertyName: 'petType' },
      }
      const cat = { allOf: [ref('Animal'), { required: ['meow'] }] }
      expect(() => petsApp(openapi, petRef, { Pet: pet, Animal: ref('Pet'), Cat: cat })).toThrow(
        /refers to itself in a loop/,
      )
    })

    test('the picked branch is held to its own schema and its base, once', async () => {
      const { app, seen } = mount()
      const cat = { petType: 'Cat', meow: true, name: 'Tom' }
      expect((await request(app).post('/pets').send(cat)).status).toBe(200)
      expect(seen.bodies).toEqual([cat])
    })

    test.each([
      ['a Cat property of the wrong type', { petType: 'Cat', meow: 'yes' }, '/meow'],
      ["a Dog without the Dog's required property", { petType: 'Dog' }, ''],
      ["the base's property of the wrong type", { petType: 'Cat', name: 7 }, '/name'],
      ['a value nothing maps', { petType: 'Fish' }, '/petType'],
      ['no discriminator property', { meow: true }, ''],
    ])('refuses %s (422, never a stack overflow)', async (_case, body, instancePath) => {
      const { app, seen } = mount()
      const res = await request(app).post('/pets').send(body)
      expectRefusal(res, 422, 'entity.validation.failed', seen)
      expect(res.body.errors[0]).toMatchObject({ instancePath })
    })
  },
)

// OpenAPI 3.1 reads the keywords beside a `$ref` (3.0 drops them): a branch may inherit its
// base that way, and must not be taken for an alias of it.
test('3.1: a branch inheriting the base by a $ref beside its own keywords validates', async () => {
  const openapi = '3.1.0'
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
  const pet = {
    type: 'object',
    required: ['petType'],
    properties: { petType: { type: 'string' } },
    oneOf: [ref('Cat')],
    discriminator: { propertyName: 'petType' },
  }
  const cat = {
    ...ref('Pet'),
    type: 'object',
    properties: { meow: { type: 'boolean' } },
    required: ['meow'],
  }
  const { app, seen } = petsApp(openapi, petRef, { Pet: pet, Cat: cat })
  expectRefusal(
    await request(app).post('/pets').send({ petType: 'Cat' }),
    422,
    'entity.validation.failed',
    seen,
  )
  const body = { petType: 'Cat', meow: true }
  expect((await request(app).post('/pets').send(body)).status).toBe(200)
  expect(seen.bodies).toEqual([body])
})

describe.each(['3.0.3', '3.1.0'])('readOnly wherever it applies (OpenAPI %s)', (openapi) => {
  // A read-only Id reached through a branch, an item or a map is as read-only as a property
  // marked so: a client sending it is mass-assigning a server's value.
  const id = { $ref: '#/components/schemas/Id' }
  const nullable = openapi === '3.0.3' ? { type: 'object', nullable: true } : { type: 'null' }
  const mount = () =>
    petsApp(openapi, petRef, {
      Id: { type: 'integer', readOnly: true },
      Pet: {
        type: 'object',
        required: ['name', 'ownerId', 'childIds'],
        properties: {
          name: { type: 'string' },
          ownerId: { anyOf: [id, nullable] },
          parentId: { oneOf: [id] },
          childIds: { type: 'array', items: id },
          counts: { type: 'object', additionalProperties: id },
          meta: { type: 'object', properties: { audit: { allOf: [{ anyOf: [id] }] } } },
          alias: { ...id, readOnly: false },
          // A test of the value, not a value sent: `not: false` would admit anything.
          label: { not: id },
        },
      },
    })

  test('a body that sends none of it passes; other branches still apply', async () => {
    const { app, seen } = mount()
    const pet = { name: 'Rex', ownerId: null, childIds: [], counts: {}, meta: {}, alias: 3 }
    expect(
      (
        await request(app)
          .post('/pets')
          .send({ ...pet, label: 'x' })
      ).status,
    ).toBe(200)
    expectRefusal(
      await request(app)
        .post('/pets')
        .send({ ...pet, label: 1 }),
      422,
      'entity.validation.failed',
    )
    expect((await request(app).post('/pets').send(pet)).status).toBe(200)
    expect(seen.bodies).toEqual([{ ...pet, label: 'x' }, pet])
  })

  test('a read-only part composed with allOf does not refuse the whole body', async () => {
    const { app, seen } = petsApp(openapi, petRef, {
      Timestamps: { type: 'object', readOnly: true, properties: { at: { type: 'string' } } },
      Pet: {
        allOf: [
          { $ref: '#/components/schemas/Timestamps' },
          { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
        ],
      },
    })
    expect((await request(app).post('/pets').send({ name: 'Rex' })).status).toBe(200)
    expect(seen.bodies).toEqual([{ name: 'Rex' }])
  })

  test.each([
    ['through anyOf (the nullable $ref)', { ownerId: 1 }, '/ownerId'],
    ['through oneOf', { parentId: 1 }, '/parentId'],
    ['through items', { childIds: [1] }, '/childIds/0'],
    ['through additionalProperties', { counts: { a: 1 } }, '/counts'],
    ['nested, through allOf and anyOf', { meta: { audit: 1 } }, '/meta/audit'],
  ])('is refused when sent %s', async (_where, body, instancePath) => {
    const { app, seen } = mount()
    const res = await request(app)
      .post('/pets')
      .send({ name: 'Rex', ownerId: null, childIds: [], ...body })
    expectRefusal(res, 422, 'entity.validation.failed', seen)
    expect(res.body.errors.map((e: { instancePath: string }) => e.instancePath)).toContain(
      instancePath,
    )
  })
})

describe('OpenAPI with other options', () => {
  const integerThings = {
    '/things': {
      post: { requestBody: { content: { 'application/json': { schema: { type: 'integer' } } } } },
    },
  }

  test('a document object works like a path, and routes add routes', async () => {
    const { app, seen } = withSafeBody({
      openapi: {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: integerThings,
      },
      schemas: { note: { type: 'string' } },
      routes: { 'POST /notes': 'note' },
    })
    expect((await request(app).post('/things').type('json').send('5')).status).toBe(200)
    expect((await request(app).post('/notes').type('json').send('"hi"')).status).toBe(200)
    expectRefusal(
      await request(app).post('/things').type('json').send('"x"'),
      422,
      'entity.validation.failed',
    )
    expect(seen.bodies).toEqual([5, 'hi'])
  })

  test("a server variable's enum values each prefix the paths", async () => {
    const { app, seen } = withSafeBody({
      openapi: {
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        servers: [
          { url: '/{version}', variables: { version: { default: 'v1', enum: ['v1', 'v2'] } } },
        ],
        paths: integerThings,
      },
    })
    for (const path of ['/v1/things', '/v2/things']) {
      expect((await request(app).post(path).type('json').send('5')).status).toBe(200)
    }
    expectRefusal(
      await request(app).post('/v2/things').type('json').send('"x"'),
      422,
      'entity.validation.failed',
    )
    expectRefusal(
      await request(app).post('/v3/things').type('json').send('5'),
      415,
      'route.schema.missing',
    )
    expect(seen.bodies).toEqual([5, 5])
  })

  test('a document schema can $ref a schemas entry by its absolute $id', async () => {
    const address = fileURLToPath(new URL('../fixtures/schemas-folder/good', import.meta.url))
    const { app, seen } = withSafeBody({
      schemas: address,
      openapi: {
        openapi: '3.0.3',
        paths: {
          '/moves': {
            post: {
              requestBody: {
                content: {
                  'application/json': {
                    schema: { $ref: 'https://example.com/schemas/address.yaml' },
                  },
                },
              },
            },
          },
        },
      },
    })
    expect((await request(app).post('/moves').send({ street: 'Main St' })).status).toBe(200)
    expectRefusal(
      await request(app).post('/moves').send({ zip: '1' }),
      422,
      'entity.validation.failed',
    )
    expect(seen.bodies).toEqual([{ street: 'Main St' }])
  })

  test('/pets and /pets/ in one document: a start-up error that names the option, two routes with it', async () => {
    const body = (type: string) => ({
      post: { requestBody: { content: { 'application/json': { schema: { type } } } } },
    })
    const openapi = {
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: { '/pets': body('object'), '/pets/': body('array') },
    }
    expect(() => safeBody({ openapi })).toThrow(
      /route "POST \/pets\/" is bound twice: "POST \/pets" matches the same paths \(routing.strict is false/,
    )
    const { app, seen } = buildApp(frameworks[0][1], (app, echo) => {
      app.set('strict routing', true)
      app.use(safeBody({ openapi, routing: { strict: true } }))
      app.use(echo)
    })
    expect((await request(app).post('/pets').send({ a: 1 })).status).toBe(200)
    expect((await request(app).post('/pets/').send([1])).status).toBe(200)
    expectRefusal(await request(app).post('/pets/').send({ a: 1 }), 422, 'entity.validation.failed')
    expectRefusal(await request(app).post('/pets').send([1]), 422, 'entity.validation.failed')
    expect(seen.bodies).toEqual([{ a: 1 }, [1]])
  })

  test('component schemas can be named by route() by their id', () => {
    const bodies = safeBody({ openapi: fixture('petstore-3.0.yaml') })
    expect(() => bodies.route('openapi:/components/schemas/NewPet')).not.toThrow()
  })

  test('a route in both the document and routes fails at start-up', () => {
    expect(() =>
      safeBody({
        openapi: fixture('petstore-3.1.json'),
        schemas: { s: true },
        routes: { 'POST /pets': 's' },
      }),
    ).toThrow(/route "POST \/pets" is in both the OpenAPI document and routes/)
  })

  test('OpenAPI 3.1 with the draft-07 dialect fails at start-up; 3.0 works with it', () => {
    expect(() => safeBody({ openapi: fixture('petstore-3.1.json'), ajv: { draft: '07' } })).toThrow(
      /needs draft 2020-12|need draft 2020-12/,
    )
    expect(() =>
      safeBody({ openapi: fixture('petstore-3.0.yaml'), ajv: { draft: '07' } }),
    ).not.toThrow()
  })

  test('under draft-07 the loop check follows no $dynamicRef or $recursiveRef, as ajv does', async () => {
    // draft-07's ajv (strict off) takes both as unknown keywords: T takes any value, no loop.
    // Under 2020-12 both name T itself, for the same value: a loop, refused at start-up.
    const document = {
      openapi: '3.0.3',
      info: { title: 't', version: '1' },
      paths: {
        '/t': {
          post: {
            requestBody: {
              content: { 'application/json': { schema: { $ref: '#/components/schemas/T' } } },
            },
            responses: { 200: { description: 'ok' } },
          },
        },
      },
      components: {
        schemas: {
          T: { anyOf: [{ type: 'string' }, { $recursiveRef: '#' }, { $dynamicRef: '#n' }] },
        },
      },
    }
    const { app } = buildApp(frameworks[0][1], (app, echo) => {
      app.use(safeBody({ openapi: document, ajv: { draft: '07', strict: false } }))
      app.post('/t', echo)
    })
    const res = await request(app).post('/t').type('json').send('1')
    expect([res.status, res.body]).toEqual([200, { body: 1 }])
    expect(() => safeBody({ openapi: document, ajv: { strict: false } })).toThrow(
      /schemas\/T" refers to itself in a loop/,
    )
  })

  test('a document that is not OpenAPI 3.0 or 3.1 fails at start-up', () => {
    expect(() => safeBody({ openapi: { openapi: '2.0' } })).toThrow(/only 3\.0\.x and 3\.1\.x/)
    expect(() => safeBody({ openapi: fixture('missing.yaml') })).toThrow(/cannot read/)
  })
})
