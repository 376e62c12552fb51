#!/usr/bin/env python3
"""Reference weights for test/history-plan.test.ts, computed independently of dase-cache.

history-plan.json: by mpmath at 40 significant digits, for the float64 alpha given (converted exactly),
the convolution weights c_k that planHistory approximates, at sampled lags k from 1 to 1e8:
- scheme "gl": Grünwald–Letnikov weights w_k = (-1)^k binom(alpha, k) (mpmath.binomial);
- scheme "l1": L1 weights b_k = (k+1)^(1-alpha) - k^(1-alpha) (mpmath.power; 40 digits leave > 30 after
  the cancellation at k = 1e8).
Values are written with 25 significant digits.

Run: python3 test/vectors/generate-history-plan.py   (mpmath; beside generate.py, which makes the other vectors)
"""
import json
import os
import sys

import mpmath

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = [("gl", a) for a in (0.1, 0.3, 0.5, 0.9, 1.0, 1.3, 1.9, 1e-6, 1.999999)] + \
        [("l1", a) for a in (0.1, 0.5, 0.9, 1e-6, 0.999999)]


def lags():
    ks = set(range(1, 70))
    for e in range(2, 9):
        for m in (1, 2, 3, 5, 7):
            ks.add(m * 10 ** e)
    ks.update([4095, 4096, 4097, 131072, 131073, 131075, 131300, 99999999, 100000000])
    return sorted(k for k in ks if k <= 10 ** 8)


def weight(scheme, a, k):
    if scheme == "gl":
        return (-1) ** k * mpmath.binomial(a, k)
    beta = 1 - a
    return mpmath.power(k + 1, beta) - mpmath.power(k, beta)


def main():
    mpmath.mp.dps = 40
    ks = lags()
    cases = []
    for scheme, alpha in CASES:
        a = mpmath.mpf(alpha)  # the exact float64 value
        cases.append({"scheme": scheme, "alpha": alpha, "k": ks,
                      "c": [mpmath.nstr(weight(scheme, a, k), 25, strip_zeros=False) for k in ks]})
    payload = {
        "provenance": {
            "generator": "test/vectors/generate-history-plan.py",
            "method": "mpmath at 40 digits: (-1)^k binomial(alpha, k) for gl, (k+1)^(1-alpha) - k^(1-alpha) for l1, "
                      "alpha the exact float64 value",
            "python": sys.version.split()[0],
            "mpmath": mpmath.__version__,
        },
        "cases": cases,
    }
    with open(os.path.join(HERE, "history-plan.json"), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print("wrote history-plan.json to", HERE)


if __name__ == "__main__":
    main()
