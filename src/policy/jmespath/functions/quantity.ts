/**
 * Kubernetes resource quantities (`100Mi`, `1.5`, `250m`, `1e3`): parse and canonical format,
 * after k8s.io/apimachinery `resource.Quantity`. Values are held exactly as nano-units in a
 * bigint (the apimachinery precision); finer fractions round up, as upstream.
 */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** value × 10^9 */
  nano: bigint;
  format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_BY_EXP = new Map(Object.entries(DECIMAL_SUFFIX).map(([k, v]) => [v, k]));
const BINARY_NAMES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const QUANTITY_RE = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$/;
/** Exponents outside this range are refused (bounded work; apimachinery caps similarly). */
const MAX_EXP = 100;

function divCeil(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b === 0n ? q : q + 1n;
}

export function parseQuantity(s: string): Quantity | undefined {
  const m = QUANTITY_RE.exec(s);
  if (!m) return undefined;
  const [, sign, numPart = '', suffix = ''] = m;
  const [intDigits = '', fracDigits = ''] = numPart.split('.');
  const mantissa = BigInt((intDigits || '0') + fracDigits);
  const scale = fracDigits.length;
  let nano: bigint;
  let format: QuantityFormat;
  if (suffix in BINARY_SUFFIX) {
    format = 'BinarySI';
    const mult = 1024n ** BigInt(BINARY_SUFFIX[suffix] as number);
    nano = divCeil(mantissa * mult * NANO, 10n ** BigInt(scale));
  } else {
    let exp: number;
    if (suffix.startsWith('e') || suffix.startsWith('E')) {
      format = 'DecimalExponent';
      exp = Number(suffix.slice(1));
      if (Math.abs(exp) > MAX_EXP) return undefined;
    } else {
      format = 'DecimalSI';
      exp = DECIMAL_SUFFIX[suffix] as number;
    }
    const shift = exp + 9 - scale;
    nano = shift >= 0 ? mantissa * 10n ** BigInt(shift) : divCeil(mantissa, 10n ** BigInt(-shift));
  }
  return { nano: sign === '-' ? -nano : nano, format };
}

/** Canonical string, as `resource.Quantity.String()`. */
export function formatQuantity(q: Quantity): string {
  if (q.nano === 0n) return '0';
  const sign = q.nano < 0n ? '-' : '';
  const abs = q.nano < 0n ? -q.nano : q.nano;
  if (q.format === 'BinarySI' && abs % NANO === 0n) {
    const whole = abs / NANO;
    let k = 0;
    while (k < 6 && whole % 1024n ** BigInt(k + 1) === 0n) k++;
    return `${sign}${whole / 1024n ** BigInt(k)}${BINARY_NAMES[k]}`;
  }
  // decimal: largest exponent (multiple of 3, -9..18) that keeps an integer mantissa
  let exp = -9;
  while (exp < 18 && abs % 10n ** BigInt(exp + 12) === 0n) exp += 3;
  const mantissa = abs / 10n ** BigInt(exp + 9);
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  return `${sign}${mantissa}${DECIMAL_BY_EXP.get(exp) ?? ''}`;
}

export function quantityToNumber(q: Quantity): number {
  return Number(q.nano) / 1e9;
}

export { NANO, divCeil };
