// One row of logits against its label: the predicted class and the cross-entropy, as the command
// line and the page's worker score evaluations.

/** Row i of logits [n, classes]: argmax and −log softmax[label] (log-sum-exp shifted by the max). */
export function scoreRow(logits: Float32Array, i: number, classes: number, label: number): { predicted: number; loss: number } {
  const row = logits.subarray(i * classes, (i + 1) * classes);
  let predicted = 0;
  for (let c = 1; c < classes; c++) if (row[c] > row[predicted]) predicted = c;
  const max = row[predicted];
  const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
  return { predicted, loss: lse - row[label] };
}
