/**
 * A validator's answer that comes later (a Standard Schema with async checks): a promise of
 * the value to hand on, boxed. The box is what tells a pending answer from the value itself,
 * so an output that is a thenable (a query builder a transform made) is handed on as it is,
 * never awaited or called.
 */
export class Later {
  constructor(readonly answer: Promise<{ readonly value: unknown }>) {}
}
