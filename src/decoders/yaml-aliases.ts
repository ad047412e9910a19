import { type StructureLimits, structureError } from '../core/guard.js'
import { limitError } from '../errors.js'

/**
 * js-yaml hands an alias on as a reference to the anchored array or object, so one change
 * in the handler (`body.billing.city = ...`) would show through every alias of it, and a
 * merge shares the anchored values the same way. Here every reference after the first is
 * replaced by a deep copy: the handler gets a tree, as from JSON. Copies are counted
 * against `maxNodes` (and `maxDepth`) as they are made, so an alias bomb stops at the limit,
 * not at its expanded size; a self-referencing alias stops at the depth limit.
 *
 * An alias or a merge also repeats strings (`l: [*a, *a, ...]` with `a` a long scalar), which
 * no node count sees: the tree's strings, keys included, are counted as they are met, and may
 * total no more than the body's own text (which holds every string it spells) plus
 * `maxStringLength` characters of repetition. Else an 80 KB body could hand on a value that
 * takes hundreds of megabytes to serialise. The text is judged once the walk is done, so a
 * bomb that also breaks `maxNodes` (billion laughs) is refused for that, as before; the walk
 * builds no more than `maxNodes` copies either way, and copied strings are shared, not new.
 */
export function unshareAliases(root: unknown, limits: StructureLimits, textLength: number): void {
  if (typeof root !== 'object' || root === null) return
  const seen = new Set<object>([root])
  const budget: Budget = { nodes: limits.nodes, text: textLength + limits.stringLength }
  const containers: object[] = [root]
  const depths: number[] = [1]
  while (containers.length > 0) {
    const container = containers.pop() as Record<string | number, unknown>
    const depth = depths.pop() as number
    const isArray = Array.isArray(container)
    for (const key of childKeys(container)) {
      if (!isArray) budget.text -= (key as string).length
      const child = container[key]
      if (typeof child === 'string') budget.text -= child.length
      if (typeof child !== 'object' || child === null) continue
      if (seen.has(child)) {
        container[key] = copy(child, depth + 1, limits, budget)
      } else {
        seen.add(child)
        containers.push(child)
        depths.push(depth + 1)
      }
    }
  }
  if (budget.text < 0) {
    throw limitError(
      'entity.string.too.long',
      `YAML aliases and merges repeat more than ${limits.stringLength} characters of text`,
      limits.stringLength,
      limits.route,
    )
  }
}

interface Budget {
  /** Values still allowed, copies included. */
  nodes: number
  /** Characters of strings and keys still allowed, repetitions included; judged at the end. */
  text: number
}

function childKeys(container: object): Array<string | number> {
  return Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container)
}

/** A deep copy of arrays and plain objects, iterative, paid for node by node. */
function copy(source: object, depth: number, limits: StructureLimits, budget: Budget): object {
  const top = fresh(source)
  const pending: Array<[object, Record<string | number, unknown>, number]> = [[source, top, depth]]
  while (pending.length > 0) {
    const [from, to, level] = pending.pop() as [object, Record<string | number, unknown>, number]
    if (level > limits.depth) throw structureError('entity.too.deep', limits)
    const isArray = Array.isArray(from)
    for (const key of childKeys(from)) {
      if (--budget.nodes < 0) throw structureError('entity.too.many.nodes', limits)
      if (!isArray) budget.text -= (key as string).length
      const child = (from as Record<string | number, unknown>)[key]
      if (typeof child !== 'object' || child === null) {
        if (typeof child === 'string') budget.text -= child.length
        to[key] = child
        continue
      }
      const made = fresh(child)
      to[key] = made
      pending.push([child, made, level + 1])
    }
  }
  return top
}

function fresh(source: object): Record<string | number, unknown> {
  return (Array.isArray(source) ? [] : {}) as Record<string | number, unknown>
}
