// LayerNorm over rows of C channels (eps 1e-5, as GPT-2). Forward splits rows over threads. Backward
// splits rows for dinp and columns for dweight/dbias, which sum over all rows in row order, so the
// result does not depend on the thread count and needs no cross-thread reduction.
import { hsum } from './simd';
import { at, argInt, argPtr, partStart } from './args';

const EPS: f32 = 1e-5;

/** Backend.layerNormForward. args: out, mean, rstd, inp, weight, bias, N, C. */
export function layerNormForward(args: usize, tid: i32, nt: i32): void {
  const out = argPtr(args, 0), mean = argPtr(args, 1), rstd = argPtr(args, 2), inp = argPtr(args, 3);
  const w = argPtr(args, 4), bias = argPtr(args, 5);
  const N = argInt(args, 6), C = argInt(args, 7);
  layerNormRows(out, mean, rstd, inp, w, bias, C, partStart(N, tid, nt), partStart(N, tid + 1, nt), true);
}

/** LayerNorm of rows r0 ≤ i < r1; mean and rstd are stored only when `stats` (decoding needs no
 * backward). */
export function layerNormRows(out: usize, mean: usize, rstd: usize, inp: usize, w: usize, bias: usize, C: i32,
  r0: i32, r1: i32, stats: bool): void {
  const C4 = C & ~3;
  for (let i = r0; i < r1; i++) {
    const x = at(inp, i * C), o = at(out, i * C);
    let vs = f32x4.splat(0);
    for (let c = 0; c < C4; c += 4) vs = f32x4.add(vs, v128.load(x + (<usize>c << 2)));
    let s = hsum(vs);
    for (let c = C4; c < C; c++) s += load<f32>(x + (<usize>c << 2));
    const m = s / <f32>C;
    const vm = f32x4.splat(m);
    let vv = f32x4.splat(0);
    for (let c = 0; c < C4; c += 4) {
      const d = f32x4.sub(v128.load(x + (<usize>c << 2)), vm);
      vv = f32x4.add(vv, f32x4.mul(d, d));
    }
    let v = hsum(vv);
    for (let c = C4; c < C; c++) {
      const d = load<f32>(x + (<usize>c << 2)) - m;
      v += d * d;
    }
    const rs = <f32>1 / Mathf.sqrt(v / <f32>C + EPS);
    const vr = f32x4.splat(rs);
    for (let c = 0; c < C4; c += 4) {
      const ofs = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + ofs), vm), vr);
      v128.store(o + ofs, f32x4.add(f32x4.mul(n, v128.load(w + ofs)), v128.load(bias + ofs)));
    }
    for (let c = C4; c < C; c++) {
      const ofs = <usize>c << 2;
      store<f32>(o + ofs, (load<f32>(x + ofs) - m) * rs * load<f32>(w + ofs) + load<f32>(bias + ofs));
    }
    if (stats) {
      store<f32>(at(mean, i), m);
      store<f32>(at(rstd, i), rs);
    }
  }
}

/** Backend.layerNormBackward. args: dinp, dweight, dbias, dout, inp, weight, mean, rstd, N, C. */
export function layerNormBackward(args: usize, tid: i32, nt: i32): void {
  const dinp = argPtr(args, 0), dw = argPtr(args, 1), db = argPtr(args, 2), dout = argPtr(args, 3);
  const inp = argPtr(args, 4), w = argPtr(args, 5), mean = argPtr(args, 6), rstd = argPtr(args, 7);
  const N = argInt(args, 8), C = argInt(args, 9);
  const C4 = C & ~3;
  const invC = <f32>1 / <f32>C;
  // dinp: rows of this thread.
  const r0 = partStart(N, tid, nt), r1 = partStart(N, tid + 1, nt);
  for (let i = r0; i < r1; i++) {
    const x = at(inp, i * C), g = at(dout, i * C), dx = at(dinp, i * C);
    const m = load<f32>(at(mean, i)), s = load<f32>(at(rstd, i));
    const vm = f32x4.splat(m), vr = f32x4.splat(s);
    let va = f32x4.splat(0), vb = f32x4.splat(0);
    for (let c = 0; c < C4; c += 4) {
      const ofs = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + ofs), vm), vr);
      const dn = f32x4.mul(v128.load(w + ofs), v128.load(g + ofs));
      va = f32x4.add(va, dn);
      vb = f32x4.add(vb, f32x4.mul(dn, n));
    }
    let sa = hsum(va), sb = hsum(vb);
    for (let c = C4; c < C; c++) {
      const ofs = <usize>c << 2;
      const n = (load<f32>(x + ofs) - m) * s;
      const dn = load<f32>(w + ofs) * load<f32>(g + ofs);
      sa += dn;
      sb += dn * n;
    }
    sa *= invC;
    sb *= invC;
    const vsa = f32x4.splat(sa), vsb = f32x4.splat(sb);
    for (let c = 0; c < C4; c += 4) {
      const ofs = <usize>c << 2;
      const n = f32x4.mul(f32x4.sub(v128.load(x + ofs), vm), vr);
      const dn = f32x4.mul(v128.load(w + ofs), v128.load(g + ofs));
      const t = f32x4.sub(f32x4.sub(dn, vsa), f32x4.mul(n, vsb));
      v128.store(dx + ofs, f32x4.add(v128.load(dx + ofs), f32x4.mul(t, vr)));
    }
    for (let c = C4; c < C; c++) {
      const ofs = <usize>c << 2;
      const n = (load<f32>(x + ofs) - m) * s;
      const dn = load<f32>(w + ofs) * load<f32>(g + ofs);
      store<f32>(dx + ofs, load<f32>(dx + ofs) + (dn - sa - n * sb) * s);
    }
  }
  // dweight, dbias: columns of this thread (in units of 4), over all rows.
  const units = (C + 3) >> 2;
  const c0 = partStart(units, tid, nt) << 2, c1 = min(C, partStart(units, tid + 1, nt) << 2);
  const v1 = min(c1, C4);
  for (let i = 0; i < N; i++) {
    const x = at(inp, i * C), g = at(dout, i * C);
    const m = load<f32>(at(mean, i)), s = load<f32>(at(rstd, i));
    const vm = f32x4.splat(m), vr = f32x4.splat(s);
    for (let c = c0; c < v1; c += 4) {
      const ofs = <usize>c << 2;
      const gv = v128.load(g + ofs);
      const n = f32x4.mul(f32x4.sub(v128.load(x + ofs), vm), vr);
      v128.store(db + ofs, f32x4.add(v128.load(db + ofs), gv));
      v128.store(dw + ofs, f32x4.add(v128.load(dw + ofs), f32x4.mul(n, gv)));
    }
    for (let c = max(c0, C4); c < c1; c++) {
      const ofs = <usize>c << 2;
      const gs = load<f32>(g + ofs);
      store<f32>(db + ofs, load<f32>(db + ofs) + gs);
      store<f32>(dw + ofs, load<f32>(dw + ofs) + (load<f32>(x + ofs) - m) * s * gs);
    }
  }
}
