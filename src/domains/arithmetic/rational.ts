/** Exact rational numbers over BigInt, for imported data whose computations use decimals
 * (`<<100*.2=20>>`, `<<7/2=3.5>>`). Always reduced, denominator positive. */

export interface Rational {
  n: bigint;
  d: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function rational(n: bigint, d = 1n): Rational {
  if (d === 0n) throw new Error('rational with a zero denominator');
  if (d < 0n) [n, d] = [-n, -d];
  const g = gcd(n, d);
  return g > 1n ? { n: n / g, d: d / g } : { n, d };
}

export const add = (x: Rational, y: Rational): Rational => rational(x.n * y.d + y.n * x.d, x.d * y.d);
export const sub = (x: Rational, y: Rational): Rational => rational(x.n * y.d - y.n * x.d, x.d * y.d);
export const mul = (x: Rational, y: Rational): Rational => rational(x.n * y.n, x.d * y.d);
/** Null on division by zero. */
export const div = (x: Rational, y: Rational): Rational | null => (y.n === 0n ? null : rational(x.n * y.d, x.d * y.n));
export const neg = (x: Rational): Rational => ({ n: -x.n, d: x.d });
export const equals = (x: Rational, y: Rational): boolean => x.n === y.n && x.d === y.d;

/** |x − y| < 1 / 10^decimals, i.e. y is x rounded or truncated to that many decimals. */
export function closeAtDecimals(x: Rational, y: Rational, decimals: number): boolean {
  const diff = sub(x, y);
  const absN = diff.n < 0n ? -diff.n : diff.n;
  return absN * 10n ** BigInt(decimals) < diff.d;
}

/** |x − y| ≤ 1e-9 · max(1, |x|): absorbs binary floating-point noise in stated results. */
export function closeRelative(x: Rational, y: Rational): boolean {
  const diff = sub(x, y);
  const absDiff = rational(diff.n < 0n ? -diff.n : diff.n, diff.d);
  const absX = rational(x.n < 0n ? -x.n : x.n, x.d);
  const scale = absX.n > absX.d ? absX : rational(1n);
  // absDiff * 1e9 <= scale  ⇔  absDiff.n * 1e9 * scale.d <= scale.n * absDiff.d
  return absDiff.n * 1_000_000_000n * scale.d <= scale.n * absDiff.d;
}

export function toText(x: Rational): string {
  return x.d === 1n ? `${x.n}` : `${x.n}/${x.d}`;
}
