// An API whose bodies are checked against an OpenAPI document: every operation's requestBody
// is its route's schema, formats and `required`; operations without one refuse bodies.
//   npx tsx examples/openapi-server.ts
import { fileURLToPath } from 'node:url'
import express, { type Request } from 'express'
import { problemDetails, safeBody } from '../src/index.js'

// The document is YAML, read at start-up: TypeScript cannot see into it, so the body types
// are declared here (or generated from the document, e.g. with openapi-typescript) and
// given to Express. safebody guarantees at run time that the body has this shape.
interface NewPet {
  name: string
  species: 'cat' | 'dog' | 'rabbit'
  age?: number
  chip?: string | null
}
interface Note {
  text: string
}

const pets: Array<NewPet & { id: number; notes: string[] }> = []
const app = express()
app.use(safeBody({ openapi: fileURLToPath(new URL('openapi.yaml', import.meta.url)) }))

app.get('/v1/pets', (_req, res) => {
  res.json(pets)
})
app.post('/v1/pets', (req: Request<object, unknown, NewPet>, res) => {
  const pet = { ...req.body, name: req.body.name.trim(), id: pets.length + 1, notes: [] }
  pets.push(pet)
  res.status(201).json(pet)
})
app.post(
  '/v1/pets/:petId/notes',
  (req: Request<{ petId: string }, unknown, Note | undefined>, res) => {
    const pet = pets.find((p) => String(p.id) === req.params.petId)
    if (pet === undefined) return void res.sendStatus(404)
    if (req.body !== undefined) pet.notes.push(req.body.text)
    res.status(201).json(pet)
  },
)
app.use(problemDetails())

const port = Number(process.env.PORT ?? 3001)
app.listen(port, () => {
  console.log(`safebody OpenAPI example on http://localhost:${port}/v1`)
  console.log(
    `curl -i -H 'Content-Type: application/json' -d '{"name":"Tom","species":"cat"}' http://localhost:${port}/v1/pets`,
  )
})
