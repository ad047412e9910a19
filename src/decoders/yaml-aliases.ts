import { type StructureLimits, structureError } from '../core/guard.js'

/**
 * js-yaml hands an alias on as a reference to the anchored array or object, so one change
 * in the handler (`body.billing.city = ...`) would show through every alias of it, and a
 * merge shares the anchored values the same way. Here every reference after the first is
 * replaced by a deep copy: the handler gets a tree, as from JSON. Copies are counted
 * against `maxNodes` (and `maxDepth`) as they are made, so an alias bomb stops at the limit,
 * not at its expanded size; a self-referencing alias stops at the depth limit.
 */
export function unshareAliases(root: unknown, limits: StructureLimits): void {
  if (typeof root !== 'object' || root === null) return
  const seen = new Set<object>([root])
  const budget = { nodes: limits.nodes }
  const containers: object[] = [root]
  const depths: number[] = [1]
  while (containers.length > 0) {
    const container = containers.pop() as Record<string | number, unknown>
    const depth = depths.pop() as number
    for (const key of childKeys(container)) {
      const child = container[key]
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
}

function childKeys(container: object): Array<string | number> {
  return Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container)
}

/** A deep copy of arrays and plain objects, iterative, paid for node by node. */
function copy(
  source: object,
  depth: number,
  limits: StructureLimits,
  budget: { nodes: number },
): object {
  const top = fresh(source)
  const pending: Array<[object, Record<string | number, unknown>, number]> = [[source, top, depth]]
  while (pending.length > 0) {
    const [from, to, level] = pending.pop() as [object, Record<string | number, unknown>, number]
    if (level > limits.depth) throw structureError('entity.too.deep', limits)
    for (const key of childKeys(from)) {
      if (--budget.nodes < 0) throw structureError('entity.too.many.nodes', limits)
      const child = (from as Record<string | number, unknown>)[key]
      if (typeof child !== 'object' || child === null) {
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
