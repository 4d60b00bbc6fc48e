#!/usr/bin/env bash
# Binder's environment, checked: a fresh virtual environment made from requirements.txt
# alone (what Binder's repo2docker installs), then chapter notebooks executed in it.
#
#   scripts/check_binder.sh [notebooks/NN_topic.ipynb ...]   (default: chapter 1)
#
# Nothing from .venv or the [dev] extras is used. Only nbclient and ipykernel are added, to
# execute the notebooks (Binder's image has Jupyter already). The notebooks run from a copy
# in a temporary folder, so they import the installed learnlr and not the source tree.
# PYTHON picks the interpreter; the environment is _build/envs/binder (not committed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
ENV=_build/envs/binder
if [ "$#" -eq 0 ]; then
    set -- notebooks/01_gradient_update.ipynb
fi

# STAGE=prepare builds the environment and stops; STAGE=run uses the one prepared if it is
# complete (CI prepares the side environments in the background while the tests run).
# Unset: both, afresh.
STAGE=${STAGE:-all}
t0=$(date +%s)
if [ "$STAGE" != run ] || [ ! -f "$ENV/.ready" ]; then
    rm -rf "$ENV"
    "$PYTHON" -m venv "$ENV"
    "$ENV/bin/python" -m pip install -qq --upgrade pip
    "$ENV/bin/python" -m pip install -qq -r requirements.txt
    "$ENV/bin/python" -m pip install -qq nbclient ipykernel
    touch "$ENV/.ready"
fi
if [ "$STAGE" = prepare ]; then
    echo "binder: environment prepared in $(($(date +%s) - t0)) s"
    exit 0
fi
t1=$(date +%s)
echo "binder: environment from requirements.txt in $((t1 - t0)) s:"
"$ENV/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -i -E '^(learnlr|numpy|matplotlib|ipywidgets|scikit-learn)==' | sed 's/^/  /'

"$ENV/bin/python" - "$@" <<'EOF'
"""Execute each notebook in a fresh kernel of this environment; fail on the first error."""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

env = Path(sys.prefix).resolve()
for name in sys.argv[1:]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / Path(name).name
        shutil.copy(name, copy)
        nb = nbformat.read(copy, as_version=4)
        nb.cells.append(
            nbformat.v4.new_code_cell("import sys, learnlr\nprint(sys.prefix, learnlr.__file__)")
        )
        t0 = time.perf_counter()
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp}}
        ).execute()
        prefix, module = nb.cells[-1].outputs[0]["text"].split()
        # the kernel must be this environment's, and learnlr the installed copy
        assert Path(prefix).resolve() == env, f"kernel ran in {prefix}, not {env}"
        assert "site-packages" in module, f"learnlr imported from {module}"
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
        print(f"binder: {name} ran in {time.perf_counter() - t0:.1f} s, no errors")
EOF
echo "binder: all done in $(($(date +%s) - t0)) s"
