"""Run the tests again under a second numerical environment, after proving that it is one.

    python scripts/second_numerics.py [--probe-only] -- PYTEST_ARGS...

The notebooks are stored with their outputs, and nbval compares a fresh run with them. If an
output depends on the last bits of floating-point rounding, the comparison passes on the machine
that stored it and fails elsewhere (another CPU, BLAS build or thread count). This script makes
"elsewhere" happen here: it picks another OpenBLAS kernel (``OPENBLAS_CORETYPE``) and another
thread count (``OPENBLAS_NUM_THREADS``) and runs pytest under them.

A check that changes nothing proves nothing, so first it runs a probe (matrix products,
``eigvalsh``, ``solve``, a sum) in a child process under the default environment and under each
candidate, and compares the results bit for bit. It takes the first candidate that changes the
bits of at least two of them, prints the evidence, and fails if none does (for example on a
NumPy built without OpenBLAS): then this check cannot be made on the machine, and it says so
instead of passing.
"""

import argparse
import json
import os
import subprocess
import sys

# Kernels built into the OpenBLAS that NumPy's wheels ship (DYNAMIC_ARCH), oldest instruction
# sets last; each runs on any x86-64 CPU that has its instructions.
CANDIDATE_CORES = ("Sandybridge", "Nehalem", "Haswell", "Prescott")

PROBE = r"""
import hashlib, json
import numpy as np

rng = np.random.default_rng(0)
A = rng.standard_normal((300, 300))
B = rng.standard_normal((300, 60))
v = rng.standard_normal(300)
S = A @ A.T + 300 * np.eye(300)
results = {
    "A @ B": A @ B,
    "A @ v": A @ v,
    "eigvalsh(S)": np.linalg.eigvalsh(S),
    "solve(S, v)": np.linalg.solve(S, v),
    "sum(A @ B)": np.sum(A @ B),
}
print(json.dumps({k: hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest()
                  for k, r in results.items()}))
"""


def probe(env):
    """Bit fingerprints of the probe's results under ``env``, or None if it cannot run."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def second_environment():
    """The first candidate environment that changes the probe's bits, with the evidence."""
    base_env = dict(os.environ)
    base = probe(base_env)
    if base is None:
        sys.exit("second-numerics: the probe does not run in this environment")
    cpus = os.cpu_count() or 1
    # Another thread count than the default (OpenBLAS uses every CPU unless told otherwise).
    default_threads = base_env.get("OPENBLAS_NUM_THREADS", str(cpus))
    threads = "1" if default_threads != "1" else "2"
    for core in CANDIDATE_CORES:
        if core == base_env.get("OPENBLAS_CORETYPE"):
            continue
        overrides = {"OPENBLAS_CORETYPE": core, "OPENBLAS_NUM_THREADS": threads}
        fingerprints = probe({**base_env, **overrides})
        if fingerprints is None:  # the CPU lacks this kernel's instructions
            continue
        changed = [k for k in base if fingerprints[k] != base[k]]
        if len(changed) >= 2:
            return overrides, base, fingerprints, changed
    sys.exit(
        "second-numerics: no candidate environment changes the last bits of the probe here "
        f"(tried OPENBLAS_CORETYPE in {CANDIDATE_CORES}); this NumPy may not use OpenBLAS "
        "(numpy.show_config() says which BLAS it uses). The check cannot be made on this machine."
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe-only", action="store_true", help="show the evidence, run nothing")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args()

    overrides, base, fingerprints, changed = second_environment()
    setting = " ".join(f"{k}={v}" for k, v in overrides.items())
    print(f"second numerical environment: {setting}")
    print("bit-level probe, default vs second (first 12 hex digits of SHA-256):")
    for key in base:
        mark = "differs" if key in changed else "same"
        print(f"  {key:<12} {base[key][:12]}  {fingerprints[key][:12]}  {mark}")
    sys.stdout.flush()
    if args.probe_only:
        return 0
    env = {**os.environ, **overrides}
    command = [sys.executable, "-m", "pytest", *args.pytest_args]
    return subprocess.run(command, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
