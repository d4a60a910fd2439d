// One row of logits against its label: the predicted class, its confidence and the cross-entropy, as the command
// line and the page's worker score evaluations.

/** Row i of logits [n, classes]: argmax, −log softmax[label] (log-sum-exp shifted by the max) and
 *  the confidence softmax[argmax]. */
export function scoreRow(
  logits: Float32Array,
  i: number,
  classes: number,
  label: number,
): { predicted: number; loss: number; confidence: number } {
  const row = logits.subarray(i * classes, (i + 1) * classes);
  let predicted = 0;
  for (let c = 1; c < classes; c++) if (row[c] > row[predicted]) predicted = c;
  const max = row[predicted];
  const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
  return { predicted, loss: max + Math.log(sum) - row[label], confidence: 1 / sum };
}
