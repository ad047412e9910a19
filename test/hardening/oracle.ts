import type { BodyErrorType } from '../../src/errors.js'
import type { StructureLimits } from '../../src/core/guard.js'

/**
 * An independent, deliberately naive statement of the data model and the limits (recursive,
 * visits everything, collects every violation), for differential tests of the guard. It
 * returns the set of catalogued types a refusal may carry; empty means "must be accepted".
 */
export function violations(root: unknown, limits: StructureLimits): Set<BodyErrorType> {
  const found = new Set<BodyErrorType>()
  let nodes = 0
  const ancestors = new Set<object>()
  const visit = (value: unknown, depth: number): void => {
    nodes++
    if (typeof value === 'string') {
      checkString(value)
      return
    }
    if (typeof value === 'boolean' || value === null) return
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) found.add('entity.type.unmapped')
      return
    }
    if (typeof value !== 'object') {
      found.add('entity.type.unmapped')
      return
    }
    if (depth > limits.depth) found.add('entity.too.deep')
    if (ancestors.has(value)) {
      // A cycle: infinitely deep and infinitely many nodes.
      found.add('entity.too.deep')
      found.add('entity.too.many.nodes')
      return
    }
    ancestors.add(value)
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1)
    } else {
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) found.add('entity.type.unmapped')
      if (Object.getOwnPropertySymbols(value).length > 0) found.add('entity.type.unmapped')
      const keys = Object.keys(value)
      if (keys.length > limits.keys) found.add('entity.too.many.keys')
      for (const key of keys) {
        checkString(key)
        const child = (value as Record<string, unknown>)[key]
        if (key === '__proto__') found.add('entity.forbidden.key')
        if (
          key === 'constructor' &&
          typeof child === 'object' &&
          child !== null &&
          Object.hasOwn(child, 'prototype')
        ) {
          found.add('entity.forbidden.key')
        }
        visit(child, depth + 1)
      }
    }
    ancestors.delete(value)
  }
  const checkString = (text: string) => {
    if (text.length > limits.stringLength) found.add('entity.string.too.long')
    if (/[\ud800-\udfff]/u.test(text)) found.add('entity.utf8.invalid')
  }
  visit(root, 1)
  if (nodes > limits.nodes) found.add('entity.too.many.nodes')
  return found
}
