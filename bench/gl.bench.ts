// Grünwald–Letnikov weights, alpha = 0.5, n = 1e6: dase-cache against the recurrence a user would write in TypeScript.

import { glWeights, glWeightsInto } from '../src/node.js';
import { checkElementwise, compare, type ComparisonResult } from './_harness.js';

const ALPHA = 0.5;
const N = 1_000_000;
const TS_LOOP = 'TypeScript recurrence loop';

// The same recurrence as the kernel, w_k = w_{k-1} * (1 - (alpha + 1) / k), one product chain.
function tsWeightsInto(w: Float64Array, alpha: number): Float64Array {
  const c = alpha + 1;
  w[0] = 1;
  for (let k = 1; k < w.length; k++) w[k] = w[k - 1] * (1 - c / k);
  return w;
}

export function benchGl(): ComparisonResult[] {
  const ours = new Float64Array(N);
  const theirs = new Float64Array(N);
  checkElementwise('glWeightsInto', glWeightsInto(ours, ALPHA), tsWeightsInto(theirs, ALPHA), 1e-9, 1e-300);
  return [
    compare({
      name: `glWeightsInto(out, ${ALPHA}), n = 1e6, preallocated`,
      subject: { name: 'dase-cache glWeightsInto', run: () => glWeightsInto(ours, ALPHA) },
      baselines: [{ name: TS_LOOP, run: () => tsWeightsInto(theirs, ALPHA) }],
      itemsPerOp: N,
      itemName: 'weight',
      targets: [{ baseline: TS_LOOP, atLeast: 2 }],
    }),
    compare({
      name: `glWeights(${ALPHA}, 1e6), allocating`,
      subject: { name: 'dase-cache glWeights', run: () => glWeights(ALPHA, N) },
      baselines: [{ name: `${TS_LOOP} into new Float64Array`, run: () => tsWeightsInto(new Float64Array(N), ALPHA) }],
      itemsPerOp: N,
      itemName: 'weight',
    }),
  ];
}
