import type { Ajv } from 'ajv'

/**
 * The property names whose presence a schema tests: those listed by `required`,
 * `dependentRequired`, `dependentSchemas`, draft-07's `dependencies` (an `if` on presence goes
 * through them) and a discriminator's `propertyName`, in the schema and in every schema it
 * reaches by `$ref` or `$dynamicRef`. ajv without `ownProperties` tests presence as
 * `data.name !== undefined`, which a property inherited from Object.prototype satisfies, even
 * a non-enumerable one that no for-in check sees; a validator compiled that way is exact
 * only while none of these names is a property of Object.prototype, which is what
 * {@link inheritedTest} checks per call.
 *
 * `null` when a reference cannot be followed to a schema ajv holds (the caller then takes
 * the names of every schema it holds, a superset). Without `ajv`, references are not
 * followed: the names of `roots` alone.
 */
export function presenceNames(roots: readonly unknown[], ajv?: Ajv): readonly string[] | null {
  const names = new Set<string>()
  const walked = new Set<object>()
  const pending = roots.map((node) => ({ node, base: '' }))
  while (pending.length > 0) {
    const { node, base: outer } = pending.pop() as { node: unknown; base: string }
    if (typeof node !== 'object' || node === null || walked.has(node)) continue
    walked.add(node)
    if (Array.isArray(node)) {
      for (const item of node) pending.push({ node: item, base: outer })
      continue
    }
    const schema = node as Record<string, unknown>
    const base = typeof schema.$id === 'string' ? resolve(schema.$id, outer) : outer
    collect(schema, names)
    for (const keyword of ['$ref', '$dynamicRef']) {
      const ref = schema[keyword]
      if (ajv === undefined || typeof ref !== 'string' || ref.startsWith('#')) continue
      const target = referenced(ajv, ref, base)
      if (target === undefined) return null
      pending.push({ node: target, base: '' })
    }
    for (const value of Object.values(schema)) pending.push({ node: value, base })
  }
  return [...names]
}

/** The names one schema object lists (not its subschemas: the walk reaches those). */
function collect(schema: Record<string, unknown>, names: Set<string>): void {
  const add = (list: unknown) => {
    if (Array.isArray(list)) for (const name of list) if (typeof name === 'string') names.add(name)
  }
  add(schema.required)
  for (const keyword of ['dependentRequired', 'dependentSchemas', 'dependencies']) {
    const map = schema[keyword]
    if (typeof map !== 'object' || map === null) continue
    for (const [name, value] of Object.entries(map)) {
      names.add(name)
      add(value)
    }
  }
  const discriminator = schema.discriminator as { propertyName?: unknown } | undefined
  if (typeof discriminator?.propertyName === 'string') names.add(discriminator.propertyName)
}

/** The whole document a non-local reference points into, as ajv holds it. */
function referenced(ajv: Ajv, ref: string, base: string): unknown {
  const hash = ref.indexOf('#')
  const document = hash === -1 ? ref : ref.slice(0, hash)
  for (const key of new Set([resolve(document, base), document])) {
    try {
      const found = ajv.getSchema(key)
      if (found !== undefined) return found.schema
    } catch {
      // Not a key ajv holds: try the next spelling.
    }
  }
  return undefined
}

function resolve(uri: string, base: string): string {
  try {
    return new URL(uri, base || undefined).href.replace(/#.*$/, '')
  } catch {
    return uri
  }
}

/**
 * A test, true when any of `names` is a property of Object.prototype (own, enumerable or
 * not), run on every validation. It is built as one `in` per name with the name written in
 * (as a JSON string literal, so nothing but a string can be written there): V8 answers such
 * a test from the call site's cache, about 5 ns for a signup form's names, where a loop
 * whose names vary looks each up in full (130 ns). Object.prototype has no prototype (it
 * cannot be given one), so `in` asks it alone. Past 64 names, the loop: schemas that size
 * cost far more to validate. (ajv builds its validators with `new Function` as well.)
 */
export function inheritedTest(names: readonly string[]): () => boolean {
  if (names.length === 0) return () => false
  if (names.length > 64) {
    return () => {
      for (let i = 0; i < names.length; i++) {
        if ((names[i] as string) in Object.prototype) return true
      }
      return false
    }
  }
  const test = names.map((name) => `${JSON.stringify(name)} in P`).join(' || ')
  return new Function('P', `return () => ${test}`)(Object.prototype) as () => boolean
}
