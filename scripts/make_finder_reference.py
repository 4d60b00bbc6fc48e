"""Record what fast.ai's learning-rate finder does with given loss records.

Writes tests/reference/fastai_finder.json, which tests/test_finder_fastai.py compares
learnlr.finder against case by case. Each case scripts the (mini)batch losses of a sweep;
the script runs fastai's own ``Learner.lr_find`` (its ``LRFinder`` callback, ``Recorder``
smoothing, trimming and suggestion functions) on a one-parameter model whose loss function
returns the scripted values in turn, and stores what fastai recorded (rates, smoothed
losses, number of updates run) and what each suggestion function returned or raised.
A second group of cases calls the four suggestion functions directly on given curves.

It needs fastai and torch, which the course does not depend on. Run it in a separate
environment:

    python -m venv _build/envs/fastai
    _build/envs/fastai/bin/pip install torch==2.13.0
    _build/envs/fastai/bin/pip install --no-deps fastai fastcore
    _build/envs/fastai/bin/pip install numpy matplotlib requests pyyaml pandas scipy \
        plum-dispatch fasttransform fastprogress fastdownload scikit-learn
    _build/envs/fastai/bin/python scripts/make_finder_reference.py

(``--no-deps`` leaves out torchvision and spacy, which the finder does not use.)
"""

import json
import math
import pathlib
import tempfile

import fastai
import numpy as np
import torch
from fastai.callback.progress import ProgressCallback
from fastai.callback.schedule import minimum, slide, steep, valley  # noqa: F401 (patches lr_find)
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from torch.utils.data import DataLoader, TensorDataset

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "reference" / "fastai_finder.json"
RULES = {"minimum": minimum, "steep": steep, "valley": valley, "slide": slide}


def u_curve(num_it, blow_at, seed=0, noise=0.02, mid=None):
    """A finder-like record: flat, falling around update ``mid``, rising fast after ``blow_at``."""
    rng = np.random.default_rng(seed)
    k = np.arange(num_it, dtype=float)
    mid = 0.5 * min(blow_at, num_it) if mid is None else mid
    fall = 2.0 - 1.5 / (1 + np.exp(-(k - mid) / (0.08 * max(mid, 5))))
    rise = np.where(k > blow_at, np.exp(0.5 * (k - blow_at)) - 1, 0.0)
    return fall + rise + noise * rng.normal(size=num_it)


def run_lr_find(losses, num_it, start_lr=1e-7, end_lr=10.0):
    """fastai's lr_find on a model whose training loss at batch i is ``losses[i]``."""
    script = iter([float(v) for v in losses])

    def loss_func(pred, target):
        # the scripted value, with a zero term that ties it to the parameter for backward
        return torch.tensor(next(script)) + 0.0 * pred.sum()

    data = TensorDataset(torch.zeros(num_it, 1), torch.zeros(num_it, 1))
    dls = DataLoaders(DataLoader(data, batch_size=1), DataLoader(data, batch_size=1))
    with tempfile.TemporaryDirectory() as tmp:
        learn = Learner(dls, torch.nn.Linear(1, 1), loss_func=loss_func, path=tmp)
        learn.remove_cb(ProgressCallback)  # no progress bars in the output
        outcome = {}
        for name, rule in RULES.items():
            try:
                (lr,) = learn.lr_find(
                    start_lr=start_lr,
                    end_lr=end_lr,
                    num_it=num_it,
                    show_plot=False,
                    suggest_funcs=(rule,),
                )
                outcome[name] = float(lr)
            except Exception as error:  # noqa: BLE001 (the kind of failure is the record)
                outcome[name] = type(error).__name__
            script = iter([float(v) for v in losses])  # the next run replays the record
        rec = learn.recorder
        return {
            "recorded_lrs": [float(v) for v in rec.lrs],
            "recorded_smoothed": [float(v) for v in rec.losses],
            "updates_run": len(rec.lrs),
            "suggestions": outcome,
        }


def direct(lrs, losses, num_it):
    """The four suggestion functions called on a given (already trimmed) curve."""
    t_lrs, t_losses = torch.tensor(lrs), torch.tensor(losses)
    out = {}
    for name, rule in RULES.items():
        try:
            out[name] = float(rule(t_lrs, t_losses, num_it)[0])
        except Exception as error:  # noqa: BLE001
            out[name] = type(error).__name__
    return out


def main():
    cases = []

    def lr_find_case(name, losses, num_it, what):
        losses = [float(v) for v in losses]
        record = run_lr_find(losses, num_it)
        cases.append({"name": name, "kind": "lr_find", "what": what, "num_it": num_it,
                      "losses": losses, **record})  # fmt: skip

    lr_find_case("blow_up", u_curve(100, 70), 100, "a sweep that stops on 4 x the best")
    lr_find_case("no_stop", u_curve(100, 1000, mid=60), 100, "a sweep that runs to the end")
    lr_find_case("short_stop", u_curve(100, 8, noise=0.0), 100,
                 "stops early: trimming [10:-5] leaves at most 1 point")  # fmt: skip
    lr_find_case("short_stop_2", u_curve(100, 12, noise=0.0), 100,
                 "stops early: trimming leaves 1 or 2 points")  # fmt: skip
    lr_find_case("num_it_10", u_curve(10, 1000), 10, "10 updates, no stop: 4 points kept")
    lr_find_case("num_it_20_slide", u_curve(20, 1000), 20,
                 "20 updates, no stop: 13 points kept, fewer than slide's 16")  # fmt: skip
    lr_find_case("num_it_26_slide", u_curve(26, 1000), 26,
                 "26 updates, no stop: 19 points kept, slide works")  # fmt: skip
    nan = u_curve(100, 1000, mid=40)
    nan[60:] = math.nan
    lr_find_case("nan", nan, 100, "the loss turns NaN at update 60 and stays NaN")
    inf = u_curve(100, 1000, mid=40)
    inf[60] = math.inf
    lr_find_case("inf", inf, 100, "the loss is inf at update 60")
    lr_find_case("negative", u_curve(100, 70) - 10.0, 100, "a negative loss")

    rng = np.random.default_rng(16)
    for i, num_it in enumerate((40, 100, 100, 100, 200, 300)):
        lrs = 1e-7 * (10.0 / 1e-7) ** (np.arange(num_it) / num_it)
        curve = u_curve(num_it, int(0.8 * num_it), seed=i, noise=float(rng.uniform(0, 0.05)))
        curve = np.minimum(curve, 1e3)
        # what lr_find passes to the rules: the record without its first num_it // 10 and
        # last 5 points, as float32 (fastai's tensors)
        kept = slice(num_it // 10, -5)
        t_lrs = np.asarray(torch.tensor(lrs[kept].tolist()), dtype=float)
        t_losses = np.asarray(torch.tensor(curve[kept].tolist()), dtype=float)
        cases.append({
            "name": f"direct_{i}", "kind": "direct", "num_it": num_it,
            "what": "the four functions on a noisy finder-like curve (trimmed, float32)",
            "lrs": t_lrs.tolist(), "losses": t_losses.tolist(),
            "suggestions": direct(t_lrs.tolist(), t_losses.tolist(), num_it),
        })  # fmt: skip

    doc = {
        "generated_by": "scripts/make_finder_reference.py",
        "fastai": fastai.__version__,
        "torch": torch.__version__.split("+")[0],
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=1, allow_nan=True) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases, fastai {fastai.__version__})")
    for case in cases:
        print(f"{case['name']:>16}: {case.get('updates_run', '-'):>4} {case['suggestions']}")


if __name__ == "__main__":
    main()
