/** body-parser 2.x's `bodyParser()` generic: calling it throws, as body-parser 2.x does. */
export function bodyParser(): never {
  throw new Error(
    'The bodyParser() generic has been split into individual middleware to use instead.',
  )
}
