#!/usr/bin/env python3
"""Native anchors for `npm run bench`: the same work done by numpy (OpenBLAS), timed in the
same run as the gradcov suites. Prints one JSON object on stdout.

Run by bench/anchors.js with OPENBLAS_NUM_THREADS=1 (one thread, as gradcov) in the
machine's environment (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as set there: the anchors'
definition), and a second time with both removed, for information rows with the kernel
OpenBLAS picks for this CPU. The kernel OpenBLAS actually runs is read back from the library
(coreType) and reported with the environment it ran in, so the docs can state it.

Usage: anchors.py [suite ...]   suites: covariance normals spectral gradients (default all),
       and eigvalsh (spectral without norm(A, 2), for the information rows)
"""
import ctypes
import json
import os
import platform
import sys
import time

import numpy as np

QUICK = os.environ.get("BENCH_QUICK") == "1"


def median_ms(fn, reps, min_time=0.3):
    """Median wall time of fn() in ms over at least `reps` calls (and about min_time s).
    The CPU time of the same calls (time.process_time) is kept in CPU_MS: on a shared
    machine it is less sensitive to other processes than the wall time."""
    fn()  # warm-up
    times, cpu = [], []
    start = time.perf_counter()
    while len(times) < reps or (time.perf_counter() - start < min_time and len(times) < 1000):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        if QUICK and len(times) >= 2:
            break
    times.sort()
    cpu.sort()
    CPU_MS.append(cpu[len(cpu) // 2])
    return times[len(times) // 2]


CPU_MS = []


def timed(fn, reps, min_time=0.3):
    """{"ms": median wall ms, "cpuMs": median CPU ms}."""
    ms = median_ms(fn, reps, min_time)
    return {"ms": ms, "cpuMs": CPU_MS[-1]}


def openblas_info():
    """Core type, config and threads of the OpenBLAS numpy loaded (what threadpoolctl reports)."""
    np.ones((2, 2)) @ np.ones((2, 2))
    info = {"coreType": None, "config": None, "threads": None, "library": None}
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line})
    except OSError:
        libs = []
    for path in libs:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", ""), ("scipy_openblas_", "")):
            try:
                core = getattr(lib, prefix + "get_corename" + suffix)
            except AttributeError:
                continue
            core.restype = ctypes.c_char_p
            config = getattr(lib, prefix + "get_config" + suffix)
            config.restype = ctypes.c_char_p
            threads = getattr(lib, prefix + "get_num_threads" + suffix)
            threads.restype = ctypes.c_int
            info.update(coreType=core().decode(), config=config().decode(), threads=threads(), library=os.path.basename(path))
            return info
    return info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def covariance():
    """G'G (OpenBLAS SYRK through matmul) for the sizes of bench/covariance.js."""
    out = {}
    rng = np.random.default_rng(1)
    for n, d in ((4096, 16), (4096, 64), (4096, 256), (512, 1024)):
        G = rng.standard_normal((n, d))
        t = timed(lambda: G.T @ G, 7)
        out[str(d)] = {"rows": n, **t, "gflops": 2 * n * d * d / (t["ms"] / 1000) / 1e9}
    return out


def normals():
    """Generator.standard_normal into a preallocated array (PCG64 + ziggurat)."""
    out = {}
    rng = np.random.default_rng(7)
    for size in (10**3, 10**4, 10**5, 10**6, 10**7):
        buf = np.empty(size)
        t = timed(lambda: rng.standard_normal(out=buf), 5 if size >= 10**7 else 9)
        out[str(size)] = {**t, "perSecond": size / (t["ms"] / 1000)}
    return out


def spectral(norm2=True):
    """eigvalsh (full spectrum) and norm(A, 2) (an SVD) of bench/spectral.js's test matrix
    (the same spectrum: a 2% gap at the top, signs alternating; a random orthogonal basis)."""
    out = {}
    rng = np.random.default_rng(3)
    for d in (16, 64, 256, 512, 1024):
        ev = np.array([(1 if i % 2 == 0 else -1) * (1.0 if i == 0 else 0.98 * (1 - i / d)) for i in range(d)])
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        A = (Q * ev) @ Q.T
        A = (A + A.T) / 2
        assert abs(np.max(np.abs(np.linalg.eigvalsh(A))) - 1) < 1e-12
        reps = 5 if d >= 512 else 20
        out[str(d)] = {"eigvalsh": timed(lambda: np.linalg.eigvalsh(A), reps)}
        if norm2:
            out[str(d)]["norm2"] = timed(lambda: np.linalg.norm(A, 2), 3 if d >= 512 else reps)
    return out


def gradients():
    """The estimate pipeline of bench/gradients.js in numpy: per batch, gather n random rows,
    residuals X_B w - y_B - sigma z, g = X_B' r / n; then np.cov of the m gradients. Forms:
    'loop' one batch at a time; 'vectorised' 128 batches at a time (einsum), both drawing
    per batch or chunk as before; and numpy at its best, 'take<k>': all m n indices and
    noises drawn once (one call each), rows gathered with np.take, X_B' r as a batched
    `@` matmul, k batches at a time for a few k (a chunk's gathered rows at most 64 MB).
    'best' names the fastest form of this run: the anchor; the others are information."""
    out = {}
    rows, n = 100_000, 256
    for d, m in ((16, 4096), (64, 4096), (256, 1024)):
        rng = np.random.default_rng(4)
        X = rng.standard_normal((rows, d))
        y = rng.standard_normal(rows)
        w = rng.standard_normal(d)
        sigma = np.sqrt(n)

        def loop():
            G = np.empty((m, d))
            for b in range(m):
                idx = rng.integers(0, rows, n)
                Xb = X[idx]
                r = Xb @ w - y[idx] - sigma * rng.standard_normal(n)
                G[b] = Xb.T @ r / n
            return np.cov(G, rowvar=False)

        def vectorised():
            G = np.empty((m, d))
            for b0 in range(0, m, 128):
                k = min(128, m - b0)
                idx = rng.integers(0, rows, (k, n))
                Xb = X[idx]
                r = Xb @ w - y[idx] - sigma * rng.standard_normal((k, n))
                G[b0:b0 + k] = np.einsum("bnd,bn->bd", Xb, r) / n
            return np.cov(G, rowvar=False)

        def take(k):
            def f():
                idx = rng.integers(0, rows, (m, n))
                z = rng.standard_normal((m, n))
                G = np.empty((m, d))
                for b0 in range(0, m, k):
                    i = idx[b0:b0 + k]
                    Xb = np.take(X, i, axis=0)
                    r = Xb @ w - np.take(y, i) - sigma * z[b0:b0 + k]
                    G[b0:b0 + k] = (r[:, None, :] @ Xb)[:, 0, :]
                G /= n
                return np.cov(G, rowvar=False)
            return f

        forms = {"loop": ("one batch at a time (gather, residual, X_B'r, np.cov)", loop),
                 "vectorised": ("128 batches at a time (einsum)", vectorised)}
        for k in (4, 16, 64, 256):
            if k * n * d * 8 <= 64 << 20:
                forms["take%d" % k] = ("indices drawn once, np.take, @ matmul, %d batches at a time" % k, take(k))
        ref = vectorised()
        for label, f in forms.values():
            C = f()
            # the same estimator (different draws): the same shape, finite, close in scale
            assert C.shape == (d, d) and np.all(np.isfinite(C))
            assert abs(np.trace(C) / np.trace(ref) - 1) < 0.2, label
        res = {"batches": m, "forms": {}}
        for key, (label, f) in forms.items():
            res["forms"][key] = {"label": label, **timed(f, 3)}
        res["best"] = min(res["forms"], key=lambda k: res["forms"][k]["ms"])
        res["loop"] = res["forms"]["loop"]
        res["vectorised"] = res["forms"]["vectorised"]
        res["fastest"] = res["forms"][res["best"]]
        out[str(d)] = res
    return out


SUITES = {
    "covariance": covariance, "normals": normals, "spectral": spectral, "gradients": gradients,
    "eigvalsh": lambda: spectral(norm2=False),
}


def main():
    wanted = [a for a in sys.argv[1:] if a in SUITES] or ["covariance", "normals", "spectral", "gradients"]
    result = {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "openblas": openblas_info(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")},
    }
    for name in wanted:
        result[name] = SUITES[name]()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
