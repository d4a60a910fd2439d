// Float64 reference: softmax cross-entropy with integer labels, logits [B, C], labels [B].
// Rows whose label is outside [0, C) count as loss 0, gradient 0 and not correct.

export interface CrossEntropyRef {
  /** Mean over the B rows of logsumexp(x) − x[label]. */
  loss: number;
  /** (softmax − onehot) / B, [B, C]. */
  dlogits: Float64Array;
  /** Rows whose first maximum is at the label. */
  correct: number;
}

export function crossEntropyRef(
  logits: Float64Array,
  labels: ArrayLike<number>,
  B: number,
  C: number,
): CrossEntropyRef {
  const dlogits = new Float64Array(B * C);
  let total = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const y = labels[b];
    if (!(Number.isInteger(y) && y >= 0 && y < C)) continue;
    const row = logits.subarray(b * C, (b + 1) * C);
    let arg = 0;
    for (let c = 1; c < C; c++) if (row[c] > row[arg]) arg = c;
    const max = row[arg];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(row[c] - max);
    total += Math.log(sum) + max - row[y];
    if (arg === y) correct++;
    for (let c = 0; c < C; c++) dlogits[b * C + c] = (Math.exp(row[c] - max) / sum - (c === y ? 1 : 0)) / B;
  }
  return { loss: total / B, dlogits, correct };
}
