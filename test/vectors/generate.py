#!/usr/bin/env python3
"""Reference vectors for the kernel tests, computed independently of dase-cache.

- gl.json: Grünwald–Letnikov weights (-1)^k binom(alpha, k) by mpmath at 40 significant digits,
  for the float64 alpha given (converted exactly), sampled up to k = 99999.
- fornberg.json: finite-difference weights as exact rationals (fractions.Fraction), by solving the
  moment (Vandermonde) system sum_j c_j (x_j - x0)^k = m! [k == m] exactly; the points are the exact
  values of the float64 inputs.
- laplacian.json: CSR Laplacians assembled as the Kronecker sum of 1-D operators with scipy.sparse,
  the 1-D stencils from the exact central weights, duplicates summed, explicit zeros kept. Accuracy-2
  cases are also checked here against scipy.sparse.linalg.LaplacianNd.
- fractional.json: by mpmath at 40 digits, Gamma at float64 points; exact fractional derivatives of t^p,
  Gamma(p+1)/Gamma(p+1-alpha) t^(p-alpha); and the Grünwald–Letnikov and L1 sums of glDerivative and
  caputoL1 at sampled outputs, for float64 samples defined exactly (dyadic rationals), with exact weights
  ((-1)^k binom(alpha, k) and (k+1)^(1-alpha) - k^(1-alpha)) and exact h^-alpha.

Run: python3 test/vectors/generate.py [gl fornberg laplacian fractional]   (numpy, scipy, mpmath; default all)
"""
import json
import os
import sys
from fractions import Fraction
from math import factorial

import mpmath
import numpy as np
import scipy
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def provenance(what):
    return {
        "generator": "test/vectors/generate.py",
        "method": what,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "mpmath": mpmath.__version__,
    }


def write(name, payload):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


# ---------------------------------------------------------------- GL weights
def gl_vectors():
    mpmath.mp.dps = 40
    n = 100000
    ks = sorted(set(list(range(0, 200)) + [int(round(v)) for v in np.geomspace(200, n - 1, 400)]))
    cases = []
    for alpha in [0.5, 0.3, 1.5, 0.9999, 2.7, -0.5, -1.3, 0.123456789, 1e-6, 3.999]:
        a = mpmath.mpf(alpha)  # the exact float64 value
        values = [mpmath.nstr((-1) ** k * mpmath.binomial(a, k), 25, strip_zeros=False) for k in ks]
        cases.append({"alpha": alpha, "n": n, "k": ks, "w": values})
    write("gl.json", {"provenance": provenance("mpmath.binomial at 40 digits"), "cases": cases})


# ---------------------------------------------------------------- Fornberg
def solve_exact(matrix, rhs):
    """Gauss–Jordan elimination over the rationals."""
    n = len(rhs)
    a = [row[:] + [rhs[i]] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot] = a[pivot], a[col]
        p = a[col][col]
        a[col] = [v / p for v in a[col]]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col]
                a[r] = [v - f * w for v, w in zip(a[r], a[col])]
    return [a[i][n] for i in range(n)]


def exact_weights(m, x0, points):
    x0 = Fraction(x0)
    xs = [Fraction(x) for x in points]
    n = len(xs)
    matrix = [[(x - x0) ** k for x in xs] for k in range(n)]
    rhs = [Fraction(factorial(m)) if k == m else Fraction(0) for k in range(n)]
    return solve_exact(matrix, rhs)


def fornberg_vectors():
    cases = []
    irregular = [
        (1, 0.0, [-0.3, 0.0, 0.45, 1.1]),
        (2, 0.25, [0.0, 0.1, 0.35, 0.7, 1.2]),
        (3, 0.5, [0.0, 0.2, 0.4, 0.55, 0.8, 1.0]),
        (0, 0.3, [0.0, 0.25, 0.5, 1.0]),
        (4, 0.0, [-2.5, -1.0, -0.25, 0.5, 1.75, 3.0]),
        (2, 1.0, [3.0, -1.0, 0.5, 2.0, 1.0]),  # unsorted
        (5, 0.1, [i * 0.37 - 1.0 for i in range(9)]),
        (1, 0.0, [float(i) for i in range(-10, 11)]),
        (2, 0.0, [float(i) for i in range(-15, 16)]),
    ]
    for m, x0, pts in irregular:
        w = exact_weights(m, x0, pts)
        cases.append({"derivative": m, "x0": x0, "points": pts, "weights": [float(v) for v in w]})
    stencils = []
    for m in range(1, 5):
        for acc in (2, 4, 6, 8):
            radius = (m + 1) // 2 - 1 + acc // 2
            offs = list(range(-radius, radius + 1))
            stencils.append({"derivative": m, "accuracy": acc, "kind": "center", "offsets": offs,
                             "weights": [float(v) for v in exact_weights(m, 0, offs)]})
        for acc in (1, 2, 3, 4, 6):
            count = m + acc
            for kind, offs in (("forward", list(range(count))), ("backward", list(range(-count + 1, 1)))):
                stencils.append({"derivative": m, "accuracy": acc, "kind": kind, "offsets": offs,
                                 "weights": [float(v) for v in exact_weights(m, 0, offs)]})
    write("fornberg.json", {"provenance": provenance("exact rationals (fractions.Fraction) from the moment system"),
                            "points": cases, "stencils": stencils})


# ---------------------------------------------------------------- Laplacian
def central_second(acc):
    radius = acc // 2
    offs = list(range(-radius, radius + 1))
    return offs, exact_weights(2, 0, offs)


def mapped(k, n, boundary):
    if 0 <= k < n:
        return k
    if boundary == "dirichlet":
        return None
    if boundary == "periodic":
        return k % n
    m = k % (2 * n)  # mirror across the faces: u[-1-j] = u[j]
    return m if m < n else 2 * n - 1 - m


def one_d(n, h, boundary, acc):
    offs, weights = central_second(acc)
    h = Fraction(h)
    entries = {}
    for i in range(n):
        for d, w in zip(offs, weights):
            j = mapped(i + d, n, boundary)
            if j is not None:
                entries[(i, j)] = entries.get((i, j), Fraction(0)) + w / (h * h)
    rows, cols, vals = zip(*[(i, j, v) for (i, j), v in entries.items()])
    return rows, cols, vals


def kron_sum(shape, spacing, boundary, acc):
    """Sum over axes of I (x) ... (x) L_axis (x) ... (x) I, as exact triplets, then CSR."""
    size = int(np.prod(shape))
    total = {}
    for axis, n in enumerate(shape):
        rows, cols, vals = one_d(n, spacing[axis], boundary, acc)
        before = int(np.prod(shape[:axis])) if axis > 0 else 1
        after = int(np.prod(shape[axis + 1:])) if axis + 1 < len(shape) else 1
        one = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        # Structure from scipy's Kronecker product; exact values attached by position.
        pattern = sp.kron(sp.kron(sp.identity(before, format="coo"), one), sp.identity(after, format="coo"), format="coo")
        exact = {(i, j): v for i, j, v in zip(rows, cols, vals)}
        for r, c, present in zip(pattern.row, pattern.col, pattern.data):
            if present == 0:  # scipy may expand a small factor densely; only true entries count
                continue
            r, c = int(r), int(c)
            i = (r // after) % n
            j = (c // after) % n
            total[(r, c)] = total.get((r, c), Fraction(0)) + exact[(i, j)]
    keys = sorted(total)
    rows = np.array([k[0] for k in keys], dtype=np.int64)
    cols = np.array([k[1] for k in keys], dtype=np.int64)
    data = np.array([float(total[k]) for k in keys])
    m = sp.csr_matrix((data, (rows, cols)), shape=(size, size))
    m.sort_indices()
    assert m.nnz == len(keys)  # no entry merged or dropped
    return m


def check_against_laplacian_nd(m, shape, boundary):
    from scipy.sparse.linalg import LaplacianNd
    ref = LaplacianNd(tuple(shape), boundary_conditions=boundary).tosparse().toarray()
    assert np.array_equal(m.toarray(), ref), (shape, boundary)


def laplacian_vectors():
    cases = []
    shapes = [[1], [2], [3], [7], [10], [4, 5], [3, 3], [1, 6], [5, 1], [2, 9], [3, 4, 5], [2, 2, 2], [1, 3, 4], [4, 1, 2], [6, 5, 3]]
    for shape in shapes:
        for boundary in ("dirichlet", "neumann", "periodic"):
            for acc in (2, 4, 6, 8):
                spacings = [[1.0] * len(shape), [0.5 + 0.25 * a for a in range(len(shape))]]
                for spacing in spacings:
                    m = kron_sum(shape, spacing, boundary, acc)
                    if acc == 2 and all(h == 1.0 for h in spacing) and min(shape) >= 3:
                        check_against_laplacian_nd(m, shape, boundary)
                    cases.append({"shape": shape, "boundary": boundary, "accuracy": acc, "spacing": spacing,
                                  "indptr": m.indptr.tolist(), "indices": m.indices.tolist(), "data": m.data.tolist()})
    write("laplacian.json", {"provenance": provenance("Kronecker sum of exact 1-D stencils, scipy.sparse; "
                                                      "accuracy 2 cross-checked with scipy.sparse.linalg.LaplacianNd"),
                             "cases": cases})


# ---------------------------------------------------------------- fractional derivatives
# Samples that are exact float64 values in Python and JavaScript alike, so no libm enters the reference.
FRACTIONAL_SAMPLES = {
    "pseudo": lambda j: ((37 * j) % 101) / 64 + 0.5,  # f_j, scattered in [0.5, 2.08]
    "square": lambda j: (j * j) / 1048576,  # (j h)^2 for h = 1/1024
}


def gl_sum(alpha, h, f, js):
    a = mpmath.mpf(alpha)
    w = [mpmath.mpf(1)]
    for k in range(1, max(js) + 1):
        w.append(w[-1] * (k - 1 - a) / k)  # exact recurrence of (-1)^k binom(alpha, k), at 40 digits
    scale = mpmath.power(mpmath.mpf(h), -a)
    return [scale * mpmath.fsum(w[k] * f[j - k] for k in range(j + 1)) for j in js]


def l1_sum(alpha, h, f, js):
    a = mpmath.mpf(alpha)
    beta = 1 - a
    b = [mpmath.power(k + 1, beta) - mpmath.power(k, beta) for k in range(max(js) + 1)]
    scale = mpmath.power(mpmath.mpf(h), -a) / mpmath.gamma(2 - a)
    return [scale * mpmath.fsum(b[k] * (f[j - k] - f[j - k - 1]) for k in range(j)) if j > 0 else mpmath.mpf(0)
            for j in js]


def fractional_vectors():
    mpmath.mp.dps = 40
    xs = [1 + i / 16 for i in range(17)] + [1.1, 1.3, 1.7, 1.9, 1.999, 1.000001, 0.5, 0.75, 2.5, 3.75, 7.3, 12.5,
                                            20.0, 0.1, -0.5, -1.5, -2.3]
    gamma = [{"x": x, "value": mpmath.nstr(mpmath.gamma(mpmath.mpf(x)), 25)} for x in xs]
    powers = []
    for p in (2, 3):
        for alpha in (0.3, 0.5, 0.7, 1.5, -0.5):
            for t in (0.5, 1.0):
                a = mpmath.mpf(alpha)
                value = mpmath.gamma(p + 1) / mpmath.gamma(p + 1 - a) * mpmath.power(mpmath.mpf(t), p - a)
                powers.append({"p": p, "alpha": alpha, "t": t, "value": mpmath.nstr(value, 25)})
    h = 1 / 1024
    sums = []
    for n in (500, 3001):
        js = sorted({j for j in (0, 1, 2, 7, 63, 64, 65, 100, 255, 256, 257, 499, 767, 768, 769, 1000, 2047, 2048, 3000)
                     if j < n})
        for name, sample in FRACTIONAL_SAMPLES.items():
            f = [sample(j) for j in range(n)]
            assert all(mpmath.mpf(v) == mpmath.mpf(sample(j)) for j, v in enumerate(f))
            for alpha in (0.5, 0.3, 0.9, 1.5, -0.7):
                sums.append({"operator": "glDerivative", "samples": name, "n": n, "alpha": alpha, "h": h, "j": js,
                             "value": [mpmath.nstr(v, 25) for v in gl_sum(alpha, h, f, js)]})
            for alpha in (0.5, 0.2, 0.9):
                sums.append({"operator": "caputoL1", "samples": name, "n": n, "alpha": alpha, "h": h, "j": js,
                             "value": [mpmath.nstr(v, 25) for v in l1_sum(alpha, h, f, js)]})
    write("fractional.json", {
        "provenance": provenance("mpmath at 40 digits: gamma, Gamma(p+1)/Gamma(p+1-alpha) t^(p-alpha), and the GL "
                                 "and L1 sums with exact weights (fsum) for exactly defined float64 samples: "
                                 "pseudo f_j = ((37 j) mod 101) / 64 + 0.5, square f_j = j^2 / 2^20"),
        "gamma": gamma, "powers": powers, "sums": sums})


SECTIONS = {"gl": gl_vectors, "fornberg": fornberg_vectors, "laplacian": laplacian_vectors,
            "fractional": fractional_vectors}

if __name__ == "__main__":
    names = sys.argv[1:] or list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        sys.exit(f"unknown section(s) {unknown}; known: {list(SECTIONS)}")
    for name in names:
        SECTIONS[name]()
    print("wrote", ", ".join(f"{name}.json" for name in names), "to", HERE)
