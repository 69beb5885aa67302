// Kernel arguments live in a float64 slot array in shared memory, written by the host before every
// call, so every exported kernel has the uniform signature (args, tid, nt) the thread pool calls.

@inline export function argPtr(args: usize, i: i32): usize {
  return <usize>load<f64>(args + (<usize>i << 3));
}

@inline export function argInt(args: usize, i: i32): i32 {
  return <i32>load<f64>(args + (<usize>i << 3));
}

@inline export function argF32(args: usize, i: i32): f32 {
  return <f32>load<f64>(args + (<usize>i << 3));
}

@inline export function argF64(args: usize, i: i32): f64 {
  return load<f64>(args + (<usize>i << 3));
}

/** Start of thread tid's share when `units` units are split over nt threads as evenly as possible. */
@inline export function partStart(units: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>units * tid) / nt);
}

/** Byte address of float element i. */
@inline export function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}
