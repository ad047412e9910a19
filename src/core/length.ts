import type { Ajv, CodeKeywordDefinition } from 'ajv'
import { _, operators } from 'ajv/dist/compile/codegen/index.js'
import { useFunc } from 'ajv/dist/compile/util.js'
import ucs2lengthModule from 'ajv/dist/runtime/ucs2length.js'
import limitLengthModule from 'ajv/dist/vocabularies/validation/limitLength.js'

/**
 * `minLength` and `maxLength` as ajv defines them (a string's length in code points, ajv's
 * own `ucs2length`, its own error), with the count skipped where the string's `.length`
 * already decides. A string has at most `.length` code points and at least half as many
 * (a code point is one or two UTF-16 units), so only a string whose `.length` lies between
 * the limit and twice it is counted. ajv counts every string a length limit applies to, one
 * character at a time: 23 of the 64 us ajv spends on the yardstick's 30 KB webhook body,
 * 8 of 14 us on the 10 KB order. The answer and the error are ajv's, for every string
 * (`test/unit/length.test.ts` holds the two to each other).
 *
 * Installed by replacing ajv's definition through its public API (`removeKeyword`, then
 * `addKeyword`); `pattern` and `format`, which ajv checks after the lengths, are added again
 * after them, so that with `allErrors: false` the first failing keyword is the same one. (At
 * start-up, ajv's strict mode then meets these four after the others: of several keywords
 * that do not fit a schema's type, it may name another first. It refuses the schema all the
 * same.)
 */
export function exactLengths(ajv: Ajv): void {
  const after = ['pattern', 'format'].map((keyword) => ajv.getKeyword(keyword))
  for (const keyword of ['maxLength', 'minLength', 'pattern', 'format']) ajv.removeKeyword(keyword)
  ajv.addKeyword(lengthLimits)
  for (const definition of after) if (typeof definition === 'object') ajv.addKeyword(definition)
}

/**
 * A CommonJS module's `exports.default`: ESM sees the whole `exports` as the default import,
 * the CommonJS build (and TypeScript) its `default` property.
 */
export function cjsDefault<T>(module: unknown): T {
  return (module as { default?: T }).default ?? (module as T)
}

type CountFunction = ((text: string) => number) & { code: string }
const ucs2length = cjsDefault<CountFunction>(ucs2lengthModule)
const limitLength = cjsDefault<CodeKeywordDefinition>(limitLengthModule)

const lengthLimits: CodeKeywordDefinition = {
  ...limitLength,
  code(cxt) {
    const { keyword, data, schemaCode, gen, it } = cxt
    // ajv's deprecated `unicode: false`: UTF-16 units, as ajv's own keyword counts then.
    if (it.opts.unicode === false) {
      const op = keyword === 'maxLength' ? operators.GT : operators.LT
      return cxt.fail$data(_`${data}.length ${op} ${schemaCode}`)
    }
    const count = useFunc(gen, ucs2length)
    cxt.fail$data(
      keyword === 'maxLength'
        ? _`${data}.length > ${schemaCode} && ${count}(${data}) > ${schemaCode}`
        : _`${data}.length < ${schemaCode} || (${data}.length < 2 * ${schemaCode} && ${count}(${data}) < ${schemaCode})`,
    )
  },
}
