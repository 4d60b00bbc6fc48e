"""Marks a submission cannot forge: hidden tests run here, the student's code runs elsewhere.

For each submission, :class:`Session` starts one sandboxed process (``learnlr.course._worker``)
that runs the submission's code cells and then answers requests: "call ``gd_step`` on these
inputs", "send the value of ``max_stable_lr``". Only numbers (or a note of why there are
none) come back. The hidden tests -- the ``### BEGIN HIDDEN TESTS`` regions of the
instructor's notebook, which student copies do not contain -- run in *this* process, with
this process's own ``learnlr`` and NumPy, on inputs drawn at grading time; the student's names
in them stand for :class:`RemoteFunction` proxies (or the fetched values). So nothing the
student's notebook does (patching the checks, NumPy or builtins, writing files, exiting,
printing, spawning processes) reaches the comparison, and the reference never reaches the
student's process.

Each submission's process is bounded (:data:`LIMITS`: CPU seconds, memory, size of each file
it writes, scratch disk, seconds per cell and per submission) and, where the platform allows,
has no network and cannot see the instructor's or other students' files (see
``learnlr.course._worker``). A cell that runs too long, or kills its process, is skipped and the
cells are run again without it (up to ``restarts`` times), so one bad cell costs only the
exercises that depend on it.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from learnlr.course import checks

__all__ = ["LIMITS", "Session", "RemoteFunction", "RemoteValue", "ExerciseMark", "run_tests"]

#: Default bounds of one submission's process.
LIMITS = {
    "cpu_s": 300,  # CPU seconds of the whole process
    "memory_mb": 2048,  # address space
    "output_mb": 16,  # size of any one file it writes, its printed output included
    "disk_mb": 64,  # its scratch directory
    "cell_s": 60,  # seconds per cell (wall clock)
    "wall_s": 900,  # seconds per submission (wall clock)
}
MAX_LINE = 64 << 20  # bytes of one answer line from the sandbox
_MPL_LOCK = threading.Lock()
_MPL_DIR: list[str] = []


def _matplotlib_cache() -> str:
    """A font cache built once, readable by the sandbox (saves ~1 s per submission)."""
    with _MPL_LOCK:
        if not _MPL_DIR:
            path = tempfile.mkdtemp(prefix="learnlr-mpl-")
            os.chmod(path, 0o755)
            env = {**os.environ, "MPLCONFIGDIR": path, "MPLBACKEND": "Agg"}
            subprocess.run(
                [sys.executable, "-c", "import matplotlib.pyplot"],
                env=env,
                capture_output=True,
                check=False,
            )
            for root, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.chmod(os.path.join(root, name), 0o755)
            _MPL_DIR.append(path)
        return _MPL_DIR[0]


class _Forked:
    """A worker forked by the zygote: enough of ``subprocess.Popen`` for a Session."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int):
        self.pid = pid
        self.stdin = os.fdopen(stdin_fd, "wb")
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)

    def poll(self):
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        except PermissionError:  # it runs as nobody: alive
            return None
        return None

    def wait(self, timeout=None):
        end = time.monotonic() + (timeout if timeout is not None else 1e9)
        pause = 0.0005  # a worker usually exits within a millisecond or two
        while self.poll() is None:
            if time.monotonic() > end:
                raise subprocess.TimeoutExpired("worker", timeout)
            time.sleep(pause)
            pause = min(2 * pause, 0.01)
        return 0


class _Zygote:
    """One pre-loaded process per grader that forks the sandboxed workers (saves the ~1 s
    of importing NumPy, matplotlib and learnlr per submission)."""

    def __init__(self):
        import socket

        self.lock = threading.Lock()
        ours, theirs = socket.socketpair()
        env = _worker_env(tempfile.gettempdir())
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-m",
                "learnlr.course._worker",
                "--zygote",
                str(theirs.fileno()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[theirs.fileno()],
            env=env,
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.reader = ours.makefile("rb")

    def fork(self, scratch: str) -> _Forked | None:
        import socket

        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        try:
            with self.lock:
                socket.send_fds(self.sock, [b"go"], [stdin_r, stdout_w])
                line = self.reader.readline()
            pid = int(line)
        except (OSError, ValueError):
            for fd in (stdin_w, stdout_r):
                os.close(fd)
            return None
        finally:
            os.close(stdin_r)
            os.close(stdout_w)
        return _Forked(pid, stdin_w, stdout_r)


_ZYGOTES: dict[int, _Zygote | None] = {}
_ZYGOTE_LOCK = threading.Lock()


def _zygote() -> _Zygote | None:
    """This process's zygote (started on first use), or None where it cannot run."""
    with _ZYGOTE_LOCK:
        pid = os.getpid()
        if pid not in _ZYGOTES:
            try:
                _ZYGOTES[pid] = _Zygote() if hasattr(__import__("socket"), "send_fds") else None
            except OSError:
                _ZYGOTES[pid] = None
        zygote = _ZYGOTES[pid]
        if zygote is not None and zygote.proc.poll() is not None:
            _ZYGOTES.pop(pid)
            return None
        return zygote


def _worker_env(scratch: str) -> dict:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": scratch,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": _matplotlib_cache(),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }


class _Lines:
    """JSON lines from a pipe, each awaited with a deadline."""

    def __init__(self, fd: int):
        self.fd, self.buffer, self.eof = fd, b"", False

    def next(self, timeout: float):
        """The next decoded line; "timeout"; or "eof" (the process ended or sent junk)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            if self.eof:
                return "eof"
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return "timeout"
            chunk = os.read(self.fd, 1 << 16)
            if not chunk or len(self.buffer) > MAX_LINE:
                self.eof = True
                continue
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            self.eof = True
            return "eof"


def _encode_case(value):
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, dict):
        return {k: _encode_case(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_case(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Session:
    """One submission's sandboxed process, started on first use and again after a kill.

    Args:
        cells: ``(index, source)`` of the code cells to run, in order.
        hide: directories the sandbox must not see (instructor notebooks, submissions).
        limits: bounds, as in :data:`LIMITS` (missing keys take the defaults).
        restarts: how many times the process may be started again after a kill.
        use_zygote: fork the process from a pre-loaded one (else start a new interpreter).
    """

    def __init__(self, cells, hide=(), limits=None, restarts: int = 3, use_zygote=True):
        self.use_zygote = use_zygote
        self.cells = [(int(i), str(s)) for i, s in cells]
        self.hide = [os.path.abspath(p) for p in hide]
        self.limits = {**LIMITS, **(limits or {})}
        self.restarts = restarts
        self.status: dict[int, tuple[str, str]] = {}  # cell index -> (status, detail)
        self.skip: set[int] = set()
        self.isolation: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []  # limits hit, in order
        self.proc = None
        self.lines = None
        self.scratch = ""
        self.starts = 0
        self.deadline = time.monotonic() + self.limits["wall_s"]

    # -- the process ---------------------------------------------------------------------

    def _spawn(self) -> None:
        self.scratch = tempfile.mkdtemp(prefix="learnlr-grade-")
        zygote = _zygote() if self.use_zygote else None
        self.proc = zygote.fork(self.scratch) if zygote else None
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-m", "learnlr.course._worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_worker_env(self.scratch),
                cwd=self.scratch,
                start_new_session=True,
            )
        self.lines = _Lines(self.proc.stdout.fileno())
        cells = [(i, s) for i, s in self.cells if i not in self.skip]
        setup = {"limits": self.limits, "hide": self.hide, "scratch": self.scratch, "cells": cells}
        self._send(setup)

    def _send(self, message) -> bool:
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def _how_it_died(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "sent something the grader cannot read"
        if code == -signal.SIGXCPU:
            return f"used more than {self.limits['cpu_s']:g} s of CPU time"
        if code < 0:
            return f"was killed by signal {-code} (memory limit {self.limits['memory_mb']} MB?)"
        return f"ended its process (exit status {code})"

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # with any process it started
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _left(self) -> float:
        return self.deadline - time.monotonic()

    def start(self) -> bool:
        """Run the cells (again, without the ones that failed the process); True if ready."""
        while self.starts <= self.restarts:
            if self._left() <= 0:
                self._wall_note()
                return False
            self.starts += 1
            self._spawn()
            first = self.lines.next(min(60.0, self._left()))
            if not isinstance(first, dict) or "isolation" not in first:
                self.notes.append("the grader could not start the submission's process")
                self.kill()
                return False
            self.isolation, self.warnings = first["isolation"], first["warnings"]
            current = None
            while True:
                limit = self.limits["cell_s"] if current is not None else 60.0
                message = self.lines.next(min(limit, max(self._left(), 0.01)))
                if isinstance(message, dict) and message.get("ready"):
                    return True
                if isinstance(message, dict) and "note" in message:
                    if message["note"] not in self.notes:
                        self.notes.append(str(message["note"]))
                    continue
                if isinstance(message, dict) and message.get("status") == "start":
                    current = int(message["cell"])
                    continue
                if isinstance(message, dict) and "cell" in message:
                    self.status[int(message["cell"])] = (message["status"], message.get("detail"))
                    current = None
                    continue
                # a timeout, a death, or junk: blame the running cell, skip it next time
                if message == "timeout":
                    detail = f"ran longer than {self.limits['cell_s']:g} s and was stopped"
                    if self._left() <= 0:
                        detail = "was running when the submission's time was up"
                    self.kill()
                else:
                    detail = self._how_it_died()
                    self.kill()
                if current is None:
                    self.notes.append(f"the submission's process stopped: {detail}")
                    return False
                self.status[current] = ("stopped", detail)
                self.notes.append(f"cell {current} {detail}")
                self.skip.add(current)
                break
        return False

    def _wall_note(self) -> None:
        note = f"the submission ran longer than {self.limits['wall_s']:g} s in all"
        if note not in self.notes:
            self.notes.append(note)

    def ask(self, request: dict, count: int, time_limit: float) -> list[list]:
        """Send a request; ``count`` answer lines, each within ``time_limit`` seconds."""
        if (self.proc is None or self.proc.poll() is not None) and not self.start():
            return [["died", "could not be run (see the notes)"]]
        if not self._send(request):
            self.kill()
            return [["died", "ended its process"]]
        out: list[list] = []
        while len(out) < count:
            message = self.lines.next(min(time_limit, max(self._left(), 0.01)))
            if message == "timeout":
                if self._left() <= 0:
                    self._wall_note()
                self.kill()
                out.append(["timeout"])
                break
            if isinstance(message, dict) and "note" in message:
                self.notes.append(str(message["note"]))
                continue
            if message == "eof" or not isinstance(message, list) or not message:
                how = self._how_it_died() if message == "eof" else "sent an unreadable answer"
                self.kill()
                out.append(["died", how])
                break
            out.append(message)
            if message[0] in ("missing", "not callable", "uses learnlr"):
                break
        return out

    def close(self) -> None:
        self.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RemoteFunction(checks.Remote):
    """A student's function in the sandbox: checks send it inputs and get numbers back."""

    def __init__(self, session: Session, name: str):
        self.session, self.name = session, name

    def outcomes(self, cases, n, time_limit):
        request = {"name": self.name, "cases": [_encode_case(c) for c in cases], "n": n}
        answers = self.session.ask(request, len(cases), time_limit)
        return [_readable(a, self.name) for a in answers]


class RemoteValue(checks.Remote):
    """A student's value in the sandbox that is not a plain number (checks say why)."""

    def __init__(self, session: Session, name: str):
        self.session, self.name = session, name

    def outcomes(self, cases, n, time_limit):
        return [
            _readable(a, self.name)
            for a in self.session.ask({"name": self.name, "value": True}, 1, time_limit)
        ]


def _readable(answer: list, name: str) -> list:
    if answer[0] == "missing":
        return ["raised", "NameError", f"your notebook does not define {name}"]
    if answer[0] == "not callable":
        return ["raised", "TypeError", f"{name} is a {answer[1]}, not a function"]
    if answer[0] == "uses learnlr":
        return [
            "raised",
            "PermissionError",
            f"{name} calls {answer[1]}: a graded function must compute its answer itself"
            " (NumPy is fine, the course's own implementation is not)",
        ]
    return answer


# --------------------------------------------------------------------------------------
# Running hidden tests
# --------------------------------------------------------------------------------------


class ExerciseMark(NamedTuple):
    exercise: str
    passed: bool
    message: str


# CPython 3.11 keeps the depth counter of its AST-to-object conversion in state shared by all
# threads, so two threads parsing at once can fail with "SystemError: AST constructor recursion
# depth mismatch" (CPython issue 106905). Grading runs submissions in threads (``jobs``), and
# parsing a cell takes microseconds: one parse at a time.
_PARSE_LOCK = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """``ast.parse(source)``, safe to call from several threads at once."""
    with _PARSE_LOCK:
        return ast.parse(source)


@functools.lru_cache(maxsize=256)  # every submission is marked by the same regions
def _free_names(source: str) -> tuple[str, ...]:
    """Names a region reads that it does not bind itself (in order of first use)."""
    tree = parse_python(source)
    bound, loaded = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return tuple(n for n in dict.fromkeys(loaded) if n not in bound and not hasattr(builtins, n))


@functools.lru_cache(maxsize=256)
def _compiled(source: str, filename: str):
    """``compile(source, filename, "exec")``, once per region for a whole class."""
    return compile(source, filename, "exec")


def _recording_checks(record: list):
    """A stand-in for :mod:`learnlr.course.checks` whose checks also append to ``record``."""

    def wrap(fn):
        def check(*args, **kwargs):
            result = fn(*args, **kwargs)
            record.append(result)
            return result

        return check

    names = {name: getattr(checks, name) for name in checks.__all__}
    names.update({name: wrap(getattr(checks, name)) for name in checks.__all__ if "check_" in name})
    return SimpleNamespace(**names)


def _fetch(session: Session, name: str, time_limit: float):
    """What a student's name stands for here: a proxy, a number or array, or None."""
    kind = session.ask({"name": name, "kind": True}, 1, time_limit)[0]
    if kind[0] == "function":
        return RemoteFunction(session, name)
    if kind[0] != "value":
        return kind  # missing, or the process died
    answer = session.ask({"name": name, "value": True}, 1, time_limit)[0]
    if answer[0] == "none":
        return None
    if answer[0] == "ok" and "bad" not in answer[1][0]:
        value = checks._decode(answer[1][0])
        return float(value) if value.shape == () else value
    return RemoteValue(session, name)


def run_tests(
    source: str, imports: str, session: Session, exercise_ids: Sequence[str], time_limit=5.0
) -> dict[str, ExerciseMark]:
    """Run one region of instructor tests against a submission; a mark per exercise id.

    ``imports`` (the instructor notebook's import statements) runs first, here; every other
    name the region reads and does not define is looked up in the submission.
    """
    namespace: dict = {"__name__": "__hidden_tests__"}
    try:
        exec(_compiled(imports, "<imports>"), namespace)
    except Exception:  # an import the grader lacks: the names stay undefined
        pass
    record: list = []
    namespace["checks"] = _recording_checks(record)
    error = ""
    for name in _free_names(source):
        if name in namespace:
            continue
        found = _fetch(session, name, time_limit)
        if isinstance(found, list):
            if found[0] == "missing":
                error = f"your notebook does not define {name}"
            elif found[0] in ("died", "timeout"):
                error = f"the submission's process could not answer: {' '.join(found[1:2])}"
            if error:
                break
            continue
        namespace[name] = found
    if not error:
        try:
            exec(_compiled(source, "<hidden tests>"), namespace)
        except AssertionError:  # a failed check, already recorded
            pass
        except Exception as err:  # the tests could not run with what was submitted
            error = f"the tests could not run: {type(err).__name__}: {err}"
    marks = {}
    for ex_id in exercise_ids:
        mine = [r for r in record if r.exercise == ex_id]
        if mine and all(r.passed for r in mine):
            marks[ex_id] = ExerciseMark(ex_id, True, mine[-1].message)
        elif mine:
            first = next(r for r in mine if not r.passed)
            marks[ex_id] = ExerciseMark(ex_id, False, first.message)
        else:
            marks[ex_id] = ExerciseMark(ex_id, False, error or "the tests recorded no result")
    return marks
