"""The sandbox side of grading: run one submission's code cells, then answer the grader.

Started by :mod:`learnlr.course.grader` as ``python -I -m learnlr.course._worker`` (one process per
submission). Before any student code runs it puts limits on itself (CPU time, memory, size
of each file written, open files), and, where the platform allows, moves into new network
and mount namespaces: no network, an empty size-limited scratch directory, the instructor's
and other students' files hidden behind empty mounts, and (when started as root) the rights
of the ``nobody`` user. What it could not do it says in its first message.

Protocol (one JSON document per line): the grader writes the set-up (limits, hidden paths,
scratch directory, cells) on stdin; the worker answers on a private copy of its stdout
(``{"isolation": [...], "warnings": [...]}``, then ``{"cell": i, "status": "start"}`` and
``{"cell": i, "status": "ok"|"error", "detail": ...}`` per cell, then ``{"ready": true}``),
and then answers requests ``{"name": ..., "cases": [...], "n": k}`` (call a function on each
case) and ``{"name": ..., "value": true}`` (send a value), one line per case. The student's
own prints go to a file. Only numbers travel back: the grader compares them with its
references, which this process never sees.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys

CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUSER = 0x00020000, 0x40000000, 0x10000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
NOBODY = 65534
PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS, CAP_DAC_READ_SEARCH = 8, 38, 2


def _limit(name: str, value: int, grace: int = 0) -> None:
    """Set a limit; past ``value`` + ``grace`` (CPU: the hard limit) the kernel kills."""
    what = getattr(resource, name)
    _, hard = resource.getrlimit(what)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
        grace = min(grace, hard - value)
    resource.setrlimit(what, (value, value + grace))


def _isolate(setup: dict) -> tuple[list[str], list[str]]:
    """Enter new namespaces and hide paths; return (what holds, warnings)."""
    held, warnings = [], []
    libc = ctypes.CDLL(None, use_errno=True)
    root = os.geteuid() == 0
    flags = CLONE_NEWNS | CLONE_NEWNET | (0 if root else CLONE_NEWUSER)
    if libc.unshare(flags) != 0:
        err = os.strerror(ctypes.get_errno())
        warnings.append(
            f"no network or file isolation: unshare failed ({err}); "
            "the submission could use the network and read the grader's files"
        )
        return held, warnings
    held.append("no network")

    def mount(source, target, fstype, flags_, data):
        ok = libc.mount(source, target, fstype, flags_, data) == 0
        return ok or os.strerror(ctypes.get_errno())

    mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
    size = f"size={int(setup['limits']['disk_mb'])}m,mode=1777".encode()
    hidden_ok = True
    for path in setup.get("hide", []):
        if os.path.isdir(path):
            result = mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, b"size=1m,mode=0555")
            if result is not True:
                hidden_ok = False
                warnings.append(f"could not hide {path}: {result}")
    if hidden_ok:
        held.append("instructor files and other submissions hidden")
    for path in ("/dev/shm", setup["scratch"]):
        if os.path.isdir(path):
            mount(b"tmpfs", os.fsencode(path), b"tmpfs", 0, size)
    if root:
        try:
            _become_nobody(libc)
            held.append("runs as nobody (may read, not write, the grader's files)")
        except OSError as err:
            warnings.append(f"could not drop root rights: {err}")
    return held, warnings


def _become_nobody(libc) -> None:
    """Run as ``nobody``, keeping only the right to read files (the interpreter may live in
    a directory only root can read); hidden paths stay hidden behind their mounts."""
    if libc.prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS) failed")
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    keep = 1 << CAP_DAC_READ_SEARCH
    data = (ctypes.c_uint32 * 6)(keep, keep, 0, 0, 0, 0)  # effective, permitted, inheritable
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _set_limits(limits: dict) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    _limit("RLIMIT_CPU", int(limits["cpu_s"]), grace=5)  # SIGXCPU first, then SIGKILL
    _limit("RLIMIT_AS", int(limits["memory_mb"]) << 20)
    _limit("RLIMIT_FSIZE", int(limits["output_mb"]) << 20)
    _limit("RLIMIT_NOFILE", 256)
    _limit("RLIMIT_CORE", 0)


def _decode_case(value):
    import numpy as np

    if isinstance(value, dict) and "array" in value:
        return np.asarray(value["array"], dtype=value["dtype"]).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _decode_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_case(v) for v in value]
    return value


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    requests = os.fdopen(os.dup(0), "r")
    setup = json.loads(requests.readline())
    os.chdir("/")
    held, warnings = _isolate(setup)
    _set_limits(setup["limits"])
    os.chdir(setup["scratch"])
    out = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdin = open(0)
    sys.stdout = open(1, "w", buffering=1)
    sys.stderr = sys.stdout

    def send(message) -> None:
        proto.write(json.dumps(message) + "\n")
        proto.flush()

    send({"isolation": held, "warnings": warnings})

    def out_of_cpu(signum, frame) -> None:
        send({"note": f"used more than {setup['limits']['cpu_s']:g} s of CPU time"})
        os._exit(1)

    signal.signal(signal.SIGXCPU, out_of_cpu)

    import numpy as np

    from learnlr.course import checks

    outcome, encode = checks._outcome, checks._encode
    # What the worker itself relies on, put back after each cell and before each answer,
    # so a submission that patches builtins, json, NumPy or the checks breaks only itself.
    import builtins
    import copy

    kept = {m: dict(vars(m)) for m in (builtins, json, np, checks, copy, sys)}

    def restore() -> None:
        for module, saved in kept.items():
            space = vars(module)
            for key in [k for k in space if k not in saved]:
                if sys.modules.get(f"{module.__name__}.{key}") is space[key]:
                    continue  # a submodule imported since (NumPy loads numpy.random lazily)
                del space[key]
            space.update(saved)
        sys.modules.update({m.__name__: m for m in kept})

    namespace = {"__name__": "__main__", "display": lambda *a, **k: None}
    full = False
    for index, source in setup["cells"]:
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        send({"cell": index, "status": "start"})
        status = {"cell": index, "status": "ok"}
        try:
            code = compile(source, f"<cell {index}>", "exec")
            exec(code, namespace)
        except BaseException as err:  # the student's code may raise anything (and exit())
            text = f"{checks._type_name(err)}: {checks._message(err)}".strip()
            status = {"cell": index, "status": "error", "detail": text[:200]}
        restore()
        send(status)
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        if os.fstat(1).st_size >= int(setup["limits"]["output_mb"]) << 20 and not full:
            full = True
            limit = setup["limits"]["output_mb"]
            send({"note": f"the notebook printed more than {limit} MB (it was cut there)"})
    send({"ready": True})
    for line in requests:
        restore()
        request = json.loads(line)
        name = request["name"]
        if name not in namespace:
            send(["missing"])
            continue
        target = namespace[name]
        if request.get("kind"):
            send(["function" if callable(target) else "value"])
            continue
        if request.get("value"):
            send(["none"] if target is None or target is Ellipsis else ["ok", [encode(target)]])
            continue
        if not callable(target):
            send(["not callable", checks._type_name(target)])
            continue
        for case in request["cases"]:
            used = []
            answer = outcome(_watched(target, used), _decode_case(case), int(request["n"]))
            if used:
                send(["uses learnlr", used[0]])
                break
            send(answer)


# A graded function must compute its answer itself: calling the course's own implementation
# (learnlr.optimizers.adam inside adam_step, say) would pass without the understanding the
# exercise asks for. While a student's function runs on a case, a profiler notes every call
# into learnlr's modules other than the checks and this worker; switching the profiler off
# counts as such a call. (No instructor solution uses learnlr inside a graded function.)
_COURSE_DIR = os.path.dirname(os.path.abspath(__file__))
_LEARNLR_DIR = os.path.dirname(_COURSE_DIR) + os.sep
_ALLOWED = {os.path.join(_COURSE_DIR, name) for name in ("checks.py", "_worker.py")}


def _watched(target, used: list):
    """``target`` wrapped so that a call into learnlr's own code is noted in ``used``."""

    def profile(frame, event, arg) -> None:
        if event == "call" and not used:
            path = frame.f_code.co_filename
            if path.startswith(_LEARNLR_DIR) and path not in _ALLOWED:
                module = path[len(_LEARNLR_DIR) :].removesuffix(".py").replace(os.sep, ".")
                used.append("learnlr." + module.removesuffix(".__init__"))

    def call(**kwargs):
        sys.setprofile(profile)
        try:
            return target(**kwargs)
        finally:
            if sys.getprofile() is not profile and not used:
                used.append("the profiler that watches for it (it was switched off)")
            sys.setprofile(None)

    return call


def serve_forks(control_fd: int) -> None:
    """The zygote: load the modules once, then fork one worker per request.

    A request on the control socket carries two file descriptors (the worker's stdin and
    stdout); the answer is the worker's process id. Each worker starts in its own session,
    so the grader can kill it with everything it started. The zygote never runs student
    code: every worker starts from the same pristine state.
    """
    import socket

    import numpy  # noqa: F401

    for name in ("matplotlib.pyplot", "learnlr", "learnlr.course.checks", "learnlr.viz.plots"):
        try:
            __import__(name)
        except Exception:  # a module that cannot load here loads (or fails) in the worker
            pass
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 16, 2)
        except OSError:
            return
        if not message or len(fds) != 2:
            return
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.setsid()
                os.dup2(fds[0], 0)
                os.dup2(fds[1], 1)
                for fd in fds:
                    os.close(fd)
                main()
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(f"{pid}\n".encode())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--zygote":
        serve_forks(int(sys.argv[2]))
    else:
        main()
