// Entry of the compute module. Every kernel takes (args, tid, nt): its arguments as float64 slots at
// `args`, and which share of the work this thread (tid of nt) does. The host owns all memory.
export { matmul, gemmScratchBytes, packWeights, packedSize } from './gemm';
export { decodeForward, decodeRowQuantum } from './decode';
export { attentionForward, attentionBackward, attentionDecode, attentionScratchBytes } from './attention';
export { layerNormForward, layerNormBackward } from './layernorm';
export { geluForward, geluBackward, adamw } from './elementwise';

/** First byte the host may use: the end of the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
