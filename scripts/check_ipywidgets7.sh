#!/usr/bin/env bash
# Colab's widgets, checked: the widget tests and chapter 1 (with nbval) in a separate
# environment with ipywidgets 7.7.x, the version Colab ships (.venv has ipywidgets 8).
#
#   scripts/check_ipywidgets7.sh
#
# The environment (_build/envs/ipywidgets7, not committed) holds the package from this
# repository, ipywidgets==7.7.*, and pytest + nbval to run the tests; every other package at
# the version pinned in requirements-lock.txt (taken as constraints, without the widget
# packages), so that the result does not depend on the day. PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
ENV=_build/envs/ipywidgets7

# STAGE=prepare builds the environment and stops; STAGE=run uses the one prepared if it is
# complete (CI prepares the side environments in the background while the tests run).
# Unset: both, afresh.
STAGE=${STAGE:-all}
t0=$(date +%s)
if [ "$STAGE" != run ] || [ ! -f "$ENV/.ready-xdist" ]; then
    rm -rf "$ENV"
    "$PYTHON" -m venv "$ENV"
    "$ENV/bin/python" -m pip install -qq --upgrade pip
    pins=_build/envs/ipywidgets7-constraints.txt
    # name==version ; marker, from each entry of the lock (hash lines dropped)
    grep -E '^[A-Za-z0-9]' requirements-lock.txt | sed -e 's/ *\\$//' |
        grep -v -i -E '^(ipywidgets|widgetsnbextension|jupyterlab-widgets)==' >"$pins"
    "$ENV/bin/python" -m pip install -qq -c "$pins" ".[notebooks]" "ipywidgets==7.7.*" pytest pytest-xdist nbval ipykernel
    touch "$ENV/.ready-xdist"  # named for its contents: an older environment is remade
fi
if [ "$STAGE" = prepare ]; then
    echo "ipywidgets 7: environment prepared in $(($(date +%s) - t0)) s"
    exit 0
fi
t1=$(date +%s)
echo "ipywidgets 7: environment in $((t1 - t0)) s:"
"$ENV/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -i -E '^(learnlr|ipywidgets|widgetsnbextension|jupyterlab.widgets|ipykernel|numpy|matplotlib)==' |
    sed 's/^/  /'
"$ENV/bin/python" -c 'import ipywidgets, sys; v = ipywidgets.__version__
sys.exit(0 if v.startswith("7.7.") else f"expected ipywidgets 7.7.x, got {v}")'

# pyproject.toml's pytest options apply (nbval with the stored outputs of chapter 1, run
# in this environment's kernel). -p no:cacheprovider: nothing written to the repository.
"$ENV/bin/python" -m pytest -p no:cacheprovider -q -n 2 --dist loadfile -m "not student_copy" \
    tests/test_widgets.py tests/test_demos.py notebooks/01_gradient_update.ipynb
echo "ipywidgets 7: all done in $(($(date +%s) - t0)) s"
