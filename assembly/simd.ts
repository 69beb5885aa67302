// SIMD helpers shared by the kernels. Built twice: with relaxed SIMD (fused multiply-add) and with
// plain SIMD (multiply then add) for engines that lack it; ASC_FEATURE_RELAXED_SIMD picks at compile time.

/** a·b + c, fused when the engine has relaxed SIMD. */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Sum of the four lanes. */
@inline export function hsum(v: v128): f32 {
  const s = f32x4.add(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1);
}

/** Largest of the four lanes (pmax: a plain maxps, NaN handling is not needed here). */
@inline export function hmax(v: v128): f32 {
  const s = f32x4.pmax(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return max(f32x4.extract_lane(s, 0), f32x4.extract_lane(s, 1));
}

/** 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer, which then sits in the low
 * mantissa bits (its bit pattern is 0x4B400000 + n). */
const ROUND_MAGIC: f32 = 12582912.0;
const ROUND_MAGIC_BITS: i32 = 0x4b400000;

/** e^x per lane: x = n·ln2 + r with |r| ≤ ln2/2, e^r by its Taylor series to r⁷ (error below one
 * float ulp on that interval), 2^n by building the exponent bits. Inputs are clamped so 2^n stays a
 * normal float; results under ~1e-38 come out as ~1e-38 instead of 0, which no caller can tell.
 * Rounding goes through ROUND_MAGIC rather than nearest + trunc_sat, which V8 expands into long
 * NaN-safe sequences. */
@inline export function vexp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const t = madd(x, f32x4.splat(1.4426950408889634), f32x4.splat(ROUND_MAGIC));
  const n = f32x4.sub(t, f32x4.splat(ROUND_MAGIC));
  // ln2 split in a part exact in float and a remainder, so n·ln2 loses no bits.
  let r = madd(n, f32x4.splat(-0.693359375), x);
  r = madd(n, f32x4.splat(2.12194440e-4), r);
  let p = f32x4.splat(<f32>(1.0 / 5040.0));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 720.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 120.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 24.0)));
  p = madd(p, r, f32x4.splat(<f32>(1.0 / 6.0)));
  p = madd(p, r, f32x4.splat(0.5));
  p = madd(p, r, f32x4.splat(1.0));
  p = madd(p, r, f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - ROUND_MAGIC_BITS)), 23);
  return f32x4.mul(p, scale);
}

/** e^x for one float, through the vector path so scalar tails round exactly like the lanes. */
@inline export function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}
