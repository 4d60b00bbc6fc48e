"""Test-session setup shared by all test modules."""

import matplotlib

# Draw figures off screen in the test process. This is done here, not with MPLBACKEND=Agg in
# the environment: nbval's notebook kernels inherit the environment, and MPLBACKEND=Agg there
# would stop ipykernel from choosing its inline backend, so notebooks would show no figures.
matplotlib.use("Agg")
