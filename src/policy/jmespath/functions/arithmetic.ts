/**
 * Kyverno arithmetic: add, subtract, multiply, divide, modulo, sum, round over numbers,
 * Kubernetes quantities ("100Mi") and Go durations ("1h30m"). A string operand is tried as a
 * quantity first, then as a duration ("1m" is one milli-unit, "90s" a duration). Quantities and
 * durations come back as canonical strings.
 */
import type { FunctionDef, JsonValue } from '../types.js';
import { arg, def, fnError, goNumberString, T } from './util.js';
import { durationFromSeconds, durationSeconds, formatDuration, parseDuration } from './duration.js';
import { divCeil, formatQuantity, NANO, parseQuantity, quantityToNumber, type Quantity } from './quantity.js';

type Operand = { kind: 'scalar'; value: number } | { kind: 'quantity'; value: Quantity } | { kind: 'duration'; value: bigint };

export function operand(name: string, v: JsonValue): Operand {
  if (typeof v === 'number') return { kind: 'scalar', value: v };
  if (typeof v === 'string') {
    const q = parseQuantity(v);
    if (q) return { kind: 'quantity', value: q };
    const d = parseDuration(v);
    if (d !== undefined) return { kind: 'duration', value: d };
  }
  throw fnError(name, 'invalid operands');
}

function mismatch(name: string): Error {
  return fnError(name, 'types mismatch');
}
function zero(name: string): Error {
  return fnError(name, 'zero divisor');
}
function scalarQuantity(name: string, n: number): Quantity {
  const q = parseQuantity(goNumberString(n));
  if (!q) throw fnError(name, `cannot use ${n} as a quantity`);
  return q;
}
function durationResult(name: string, seconds: number): string {
  try {
    return formatDuration(durationFromSeconds(seconds));
  } catch {
    throw fnError(name, 'duration out of range');
  }
}

function add(name: string, a: Operand, b: Operand, sign: 1n | -1n): Operand {
  if (a.kind === 'scalar' && b.kind === 'scalar') return { kind: 'scalar', value: sign > 0n ? a.value + b.value : a.value - b.value };
  if (a.kind === 'quantity' && b.kind === 'quantity') return { kind: 'quantity', value: { nano: a.value.nano + sign * b.value.nano, format: a.value.format } };
  if (a.kind === 'duration' && b.kind === 'duration') return { kind: 'duration', value: a.value + sign * b.value };
  throw mismatch(name);
}

export function result(o: Operand): JsonValue {
  switch (o.kind) {
    case 'scalar':
      return o.value;
    case 'quantity':
      return formatQuantity(o.value);
    case 'duration':
      return formatDuration(o.value);
  }
}

function multiply([x, y]: JsonValue[]): JsonValue {
  const a = operand('multiply', x as JsonValue);
  const b = operand('multiply', y as JsonValue);
  if (a.kind === 'scalar' && b.kind === 'scalar') return a.value * b.value;
  const [other, scalar] = a.kind === 'scalar' ? [b, a.value] : b.kind === 'scalar' ? [a, b.value] : [undefined, 0];
  if (!other) throw mismatch('multiply');
  if (other.kind === 'quantity') {
    const s = scalarQuantity('multiply', scalar);
    const prod = other.value.nano * s.nano;
    const nano = prod < 0n ? -divCeil(-prod, NANO) : divCeil(prod, NANO);
    return formatQuantity({ nano, format: other.value.format });
  }
  return durationResult('multiply', durationSeconds(other.value as bigint) * scalar);
}

function divide([x, y]: JsonValue[]): JsonValue {
  const a = operand('divide', x as JsonValue);
  const b = operand('divide', y as JsonValue);
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    if (b.value === 0) throw zero('divide');
    return a.value / b.value;
  }
  if (a.kind === 'quantity' && b.kind === 'quantity') {
    if (b.value.nano === 0n) throw zero('divide');
    return quantityToNumber(a.value) / quantityToNumber(b.value);
  }
  if (a.kind === 'quantity' && b.kind === 'scalar') {
    if (b.value === 0) throw zero('divide');
    const s = scalarQuantity('divide', b.value);
    return formatQuantity({ nano: (a.value.nano * NANO) / s.nano, format: a.value.format });
  }
  if (a.kind === 'duration' && b.kind === 'duration') {
    if (b.value === 0n) throw zero('divide');
    return durationSeconds(a.value) / durationSeconds(b.value);
  }
  if (a.kind === 'duration' && b.kind === 'scalar') {
    if (b.value === 0) throw zero('divide');
    return durationResult('divide', durationSeconds(a.value) / b.value);
  }
  throw mismatch('divide');
}

function modulo([x, y]: JsonValue[]): JsonValue {
  const a = operand('modulo', x as JsonValue);
  const b = operand('modulo', y as JsonValue);
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    if (!Number.isInteger(a.value) || !Number.isInteger(b.value)) throw fnError('modulo', 'non-integer argument(s)');
    if (b.value === 0) throw zero('modulo');
    return a.value % b.value;
  }
  if (a.kind === 'quantity' && b.kind === 'quantity') {
    if (a.value.nano % NANO !== 0n || b.value.nano % NANO !== 0n) throw fnError('modulo', 'non-integer argument(s)');
    if (b.value.nano === 0n) throw zero('modulo');
    return formatQuantity({ nano: ((a.value.nano / NANO) % (b.value.nano / NANO)) * NANO, format: a.value.format });
  }
  if (a.kind === 'duration' && b.kind === 'duration') {
    if (b.value === 0n) throw zero('modulo');
    return formatDuration(a.value % b.value);
  }
  throw mismatch('modulo');
}

function sum([values]: JsonValue[]): JsonValue {
  const items = values as JsonValue[];
  if (items.length === 0) throw fnError('sum', 'empty array');
  let acc = operand('sum', items[0] as JsonValue);
  for (let i = 1; i < items.length; i++) acc = add('sum', acc, operand('sum', items[i] as JsonValue), 1n);
  return result(acc);
}

function round([value, digits]: JsonValue[]): JsonValue {
  const d = digits as number;
  if (!Number.isInteger(d) || d < 0) throw fnError('round', 'digits must be a non-negative integer');
  const f = 10 ** d;
  const v = (value as number) * f;
  const r = Math.sign(v) * Math.round(Math.abs(v));
  return r / f;
}

export function arithmeticFunctions(): FunctionDef[] {
  return [
    def('add', [arg(T.any), arg(T.any)], ([x, y]) => result(add('add', operand('add', x as JsonValue), operand('add', y as JsonValue), 1n))),
    def('subtract', [arg(T.any), arg(T.any)], ([x, y]) => result(add('subtract', operand('subtract', x as JsonValue), operand('subtract', y as JsonValue), -1n))),
    def('multiply', [arg(T.any), arg(T.any)], multiply),
    def('divide', [arg(T.any), arg(T.any)], divide),
    def('modulo', [arg(T.any), arg(T.any)], modulo),
    def('sum', [arg(T.array)], sum),
    def('round', [arg(T.number), arg(T.number)], round),
  ];
}
