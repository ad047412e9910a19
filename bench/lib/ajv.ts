import type { Options, ValidateFunction } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'

type FormatsPlugin = (ajv: Ajv2020) => unknown
const addFormats: FormatsPlugin =
  (ajvFormats as unknown as { default?: FormatsPlugin }).default ??
  (ajvFormats as unknown as FormatsPlugin)

/**
 * The baselines' validator: the same schema compiled by a plain `new Ajv()` (2020-12, as
 * safebody's default) with ajv-formats. safebody additionally sets `ownProperties: true`,
 * so that an inherited property never satisfies `required`; the baselines do not.
 */
export function baselineValidator(schema: object, options: Options = {}): ValidateFunction {
  const ajv = new Ajv2020(options)
  addFormats(ajv)
  return ajv.compile(schema)
}
