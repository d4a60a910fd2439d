// Float64 reference: multi-head attention O = softmax(Q·Kᵀ/√hd)·V per batch element and head.
// q and kv are fused projections [B, N, 3D] (D = H·hd): Q is the first third of q, K and V the
// second and third thirds of kv; head h uses channels h·hd..(h+1)·hd of each third.
// Returns O [B, N, D] (heads merged), lse [B, H, N] = log Σ_j exp(score_ij) and cls [B, H, N],
// the class token's (query 0's) attention probabilities over all keys.

export interface AttentionRefDims {
  B: number;
  N: number;
  H: number;
  hd: number;
}

export function attentionRef(
  q: Float64Array,
  kv: Float64Array,
  d: AttentionRefDims,
): { o: Float64Array; lse: Float64Array; cls: Float64Array } {
  const { B, N, H, hd } = d;
  const D = H * hd;
  const C = 3 * D;
  const scale = 1 / Math.sqrt(hd);
  const o = new Float64Array(B * N * D);
  const lse = new Float64Array(B * H * N);
  const cls = new Float64Array(B * H * N);
  const s = new Float64Array(N);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < N; i++) {
        const qi = (b * N + i) * C + h * hd;
        let max = -Infinity;
        for (let j = 0; j < N; j++) {
          const kj = (b * N + j) * C + D + h * hd;
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q[qi + c] * kv[kj + c];
          s[j] = dot * scale;
          max = Math.max(max, s[j]);
        }
        let sum = 0;
        for (let j = 0; j < N; j++) sum += Math.exp(s[j] - max);
        const l = max + Math.log(sum);
        lse[(b * H + h) * N + i] = l;
        const oi = (b * N + i) * D + h * hd;
        for (let j = 0; j < N; j++) {
          const p = Math.exp(s[j] - l);
          if (i === 0) cls[(b * H + h) * N + j] = p;
          const vj = (b * N + j) * C + 2 * D + h * hd;
          for (let c = 0; c < hd; c++) o[oi + c] += p * kv[vj + c];
        }
      }
    }
  }
  return { o, lse, cls };
}
