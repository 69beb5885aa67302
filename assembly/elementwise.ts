// Element-wise kernels: GELU (tanh approximation, as GPT-2) and AdamW. Threads split the array in
// blocks of 16 floats (whole cache lines); the tail past the last multiple of 4 goes through the
// same vector code one lane at a time, so every element rounds the same way.
import { madd, vexp } from './simd';
import { at, argF32, argF64, argInt, argPtr, partStart } from './args';

const GELU_S: f32 = 0.7978845608028654; // sqrt(2/π)
const GELU_C: f32 = 0.044715;

// 0.5·(1 + tanh(u)) = σ(2u) = 1/(1 + e^{−2u}): one exp and one division, saturating cleanly at
// both ends (e^{−2u} is clamped to [e^−87, e^88]).

/** e^{−2u} for u = √(2/π)·(x + 0.044715·x³). */
@inline function expNeg2u(x: v128, x2: v128): v128 {
  return vexp(f32x4.mul(f32x4.mul(x, f32x4.splat(-2 * GELU_S)), madd(x2, f32x4.splat(GELU_C), f32x4.splat(1))));
}

/** gelu(x) = x·σ(2u). */
@inline function geluF(x: v128): v128 {
  const e = expNeg2u(x, f32x4.mul(x, x));
  return f32x4.div(x, f32x4.add(e, f32x4.splat(1)));
}

/** gelu'(x) = σ + 2x·σ(1 − σ)·u', with 1 − σ = e·σ (no cancellation) and e·σ formed before the
 * product with x so nothing overflows. */
@inline function geluD(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const e = expNeg2u(x, x2);
  const sig = f32x4.div(f32x4.splat(1), f32x4.add(e, f32x4.splat(1)));
  const du2x = f32x4.mul(f32x4.mul(x, f32x4.splat(2 * GELU_S)), madd(x2, f32x4.splat(3 * GELU_C), f32x4.splat(1)));
  return f32x4.mul(sig, madd(f32x4.mul(e, sig), du2x, f32x4.splat(1)));
}

/** This thread's [start, end) of n elements, in blocks of 16. */
@inline function range0(n: i32, tid: i32, nt: i32): i32 {
  return min(n, partStart((n + 15) >> 4, tid, nt) << 4);
}

/** Backend.geluForward. args: out, inp, n. */
export function geluForward(args: usize, tid: i32, nt: i32): void {
  const out = argPtr(args, 0), inp = argPtr(args, 1), n = argInt(args, 2);
  geluRange(out, inp, range0(n, tid, nt), range0(n, tid + 1, nt));
}

/** out[i] = gelu(inp[i]) for i0 ≤ i < i1. */
export function geluRange(out: usize, inp: usize, i0: i32, i1: i32): void {
  const i4 = i0 + ((i1 - i0) & ~3);
  for (let i = i0; i < i4; i += 4) v128.store(at(out, i), geluF(v128.load(at(inp, i))));
  for (let i = i4; i < i1; i++) store<f32>(at(out, i), f32x4.extract_lane(geluF(f32x4.splat(load<f32>(at(inp, i)))), 0));
}

/** Backend.geluBackward. args: dinp, inp, dout, n. */
export function geluBackward(args: usize, tid: i32, nt: i32): void {
  const dinp = argPtr(args, 0), inp = argPtr(args, 1), dout = argPtr(args, 2), n = argInt(args, 3);
  const i0 = range0(n, tid, nt), i1 = range0(n, tid + 1, nt);
  const i4 = i0 + ((i1 - i0) & ~3);
  for (let i = i0; i < i4; i += 4) {
    const d = at(dinp, i);
    v128.store(d, madd(geluD(v128.load(at(inp, i))), v128.load(at(dout, i)), v128.load(d)));
  }
  for (let i = i4; i < i1; i++) {
    const d = at(dinp, i);
    const g = madd(geluD(f32x4.splat(load<f32>(at(inp, i)))), f32x4.splat(load<f32>(at(dout, i))), f32x4.splat(load<f32>(d)));
    store<f32>(d, f32x4.extract_lane(g, 0));
  }
}

@inline function adamM(m: v128, g: v128, b1: v128, nb1: v128): v128 {
  return madd(b1, m, f32x4.mul(nb1, g));
}

@inline function adamV(v: v128, g: v128, b2: v128, nb2: v128): v128 {
  return madd(b2, v, f32x4.mul(nb2, f32x4.mul(g, g)));
}

/** p − lr·(m̂/(√v̂ + eps) + wd·p), with m̂ = m·ic1 and v̂ = v·ic2 bias corrected. */
@inline function adamP(p: v128, m: v128, v: v128, ic1: v128, ic2: v128, lr: v128, eps: v128, wd: v128): v128 {
  const upd = f32x4.div(f32x4.mul(m, ic1), f32x4.add(f32x4.sqrt(f32x4.mul(v, ic2)), eps));
  return f32x4.sub(p, f32x4.mul(lr, madd(wd, p, upd)));
}

/** Backend.adamw. args: params, grads, m, v, n, lr, beta1, beta2, eps, weightDecay, 1/(1−beta1^t),
 * 1/(1−beta2^t) (the bias corrections come from the host, in float64). */
export function adamw(args: usize, tid: i32, nt: i32): void {
  const P = argPtr(args, 0), G = argPtr(args, 1), Mm = argPtr(args, 2), V = argPtr(args, 3), n = argInt(args, 4);
  const beta1 = argF64(args, 6), beta2 = argF64(args, 7);
  const lr = f32x4.splat(argF32(args, 5)), eps = f32x4.splat(argF32(args, 8)), wd = f32x4.splat(argF32(args, 9));
  const b1 = f32x4.splat(<f32>beta1), nb1 = f32x4.splat(<f32>(1 - beta1));
  const b2 = f32x4.splat(<f32>beta2), nb2 = f32x4.splat(<f32>(1 - beta2));
  const ic1 = f32x4.splat(argF32(args, 10)), ic2 = f32x4.splat(argF32(args, 11));
  const i0 = range0(n, tid, nt), i1 = range0(n, tid + 1, nt);
  const i4 = i0 + ((i1 - i0) & ~3);
  for (let i = i0; i < i4; i += 4) {
    const pm = at(P, i), mm = at(Mm, i), vm = at(V, i), g = v128.load(at(G, i));
    const m = adamM(v128.load(mm), g, b1, nb1), v = adamV(v128.load(vm), g, b2, nb2);
    v128.store(pm, adamP(v128.load(pm), m, v, ic1, ic2, lr, eps, wd));
    v128.store(mm, m);
    v128.store(vm, v);
  }
  for (let i = i4; i < i1; i++) {
    const pm = at(P, i), mm = at(Mm, i), vm = at(V, i), g = f32x4.splat(load<f32>(at(G, i)));
    const m = adamM(f32x4.splat(load<f32>(mm)), g, b1, nb1), v = adamV(f32x4.splat(load<f32>(vm)), g, b2, nb2);
    store<f32>(pm, f32x4.extract_lane(adamP(f32x4.splat(load<f32>(pm)), m, v, ic1, ic2, lr, eps, wd), 0));
    store<f32>(mm, f32x4.extract_lane(m, 0));
    store<f32>(vm, f32x4.extract_lane(v, 0));
  }
}
