// Serves the example API (examples/app.ts). Run it with `npm start`; PORT defaults to 3000.
import { app } from './app.js'

const port = Number(process.env.PORT ?? 3000)
const server = app.listen(port, () => {
  const url = `http://localhost:${port}`
  console.log(`safebody example listening on ${url}`)
  console.log('try:')
  console.log(
    `  curl -i -X POST ${url}/users -H 'Content-Type: application/json' -d '{"name":"Ada","email":"ada@example.com"}'`,
  )
  console.log(
    `  curl -i -X POST ${url}/users -H 'Content-Type: application/json' -d '{"name":"Ada","__proto__":{"isAdmin":true}}'`,
  )
})
process.on('SIGTERM', () => server.close())
