/**
 * The JSON Schema keywords (2020-12 and draft-07) whose value is a schema, a list of schemas,
 * or a record of schemas: where the schemas inside a schema sit.
 */
export const oneSchema: ReadonlySet<string> = new Set([
  'additionalItems',
  'items',
  'contains',
  'additionalProperties',
  'propertyNames',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
  'contentSchema',
])
export const schemaLists: ReadonlySet<string> = new Set([
  'items',
  'prefixItems',
  'allOf',
  'anyOf',
  'oneOf',
])
export const schemaRecords: ReadonlySet<string> = new Set([
  '$defs',
  'definitions',
  'properties',
  'patternProperties',
  'dependencies',
  'dependentSchemas',
])
