import type { Ajv, CodeKeywordDefinition, KeywordCxt } from 'ajv'

/**
 * The keywords that decide on a property's presence: `required`, `dependentRequired`,
 * `dependentSchemas` and draft-07's `dependencies` (an `if` or a discriminator tests
 * presence through them). ajv without `ownProperties` tests presence as
 * `data.name !== undefined`, which a property inherited from Object.prototype satisfies,
 * even a non-enumerable one that no for-in check sees.
 */
const presenceKeywords = ['required', 'dependentRequired', 'dependentSchemas', 'dependencies']

/**
 * Re-register ajv's presence keywords so their code always tests own properties (one
 * `hasOwnProperty` call per property they name), whatever the instance's `ownProperties`
 * says; every other keyword keeps ajv's plain property access. An inherited property then
 * never satisfies `required`, at the cost of checking only the names a schema requires.
 */
export function ownPresence(ajv: Ajv): void {
  for (const keyword of presenceKeywords) {
    const definition = ajv.getKeyword(keyword)
    if (typeof definition !== 'object' || !('code' in definition)) continue
    const { code } = definition as CodeKeywordDefinition
    ajv.removeKeyword(keyword)
    ajv.addKeyword({
      ...(definition as CodeKeywordDefinition),
      code(cxt: KeywordCxt, ruleType?: string) {
        // ajv reads `it.opts.ownProperties` while it writes the keyword's code; compilation is
        // synchronous, so the setting holds for exactly this keyword (and its subschemas).
        const opts = cxt.it.opts as { ownProperties?: boolean }
        const before = opts.ownProperties
        opts.ownProperties = true
        try {
          code(cxt, ruleType)
        } finally {
          opts.ownProperties = before
        }
      },
    })
  }
}
