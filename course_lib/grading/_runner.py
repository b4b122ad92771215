"""Child-process runner of the grader: calls a submission's functions, writes plain data.

Run by :mod:`course_lib.grading.sandbox` as a script, from a throwaway copy of
the course tree::

    python -I -B TREE/course_lib/grading/_runner.py TREE STUDENT_FILE MODULE_NAME

It reads its settings (a nonce, limits, the folders it may read) from stdin, limits
itself (memory, CPU, file size), imports NumPy and the codec, reads the call
inputs, installs an audit hook, and only then imports the student's file.
Each call's return value (or exception type and message) is written with the
plain-data codec; a ``DONE`` file holding the nonce is written last, so a run
that stops early is recognisable. The parent never trusts anything here beyond
"these are the values the functions returned"; it compares them with the
expected values in its own process, and this process never sees them.
"""

import builtins as _b

__builtins__ = dict(vars(_b))  # private builtins: a submission replacing builtins.* cannot reach us
_SAVED_BUILTINS = dict(__builtins__)

import json
import os
import sys
import traceback


def _limits(cfg):
    """Memory, CPU-time, file-size and core-dump limits (best effort where the OS refuses one)."""
    try:
        import resource
    except ImportError:  # Windows: only the parent's wall-time limit applies
        return
    wanted = [("RLIMIT_AS", int(cfg["memory"])), ("RLIMIT_CPU", int(cfg["cpu_seconds"])),
              ("RLIMIT_FSIZE", int(cfg["max_file_bytes"])), ("RLIMIT_CORE", 0)]
    for name, value in wanted:
        which = getattr(resource, name, None)
        if which is None or (value <= 0 and name != "RLIMIT_CORE"):
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS
            pass


# Read-only system files ordinary numeric code may open besides the Python installation.
_SYSTEM_READ = ("/dev/null", "/dev/urandom", "/dev/random", "/etc/localtime", "/usr/share/zoneinfo",
                "/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu")


def _make_hook(tree, allow_read):
    """Audit hook: no writes outside ``tree``, no processes, and reads only from an allow-list.

    Reading is allowed inside ``tree`` (the throwaway grading copy), the Python
    installation (``allow_read``: sys.prefix and friends) and a few system
    files; everything else is refused. A deny-list cannot work: any other copy
    of the course on the machine (a second clone, CI's checkout beside the
    developer's) would hold readable solutions.
    """
    realpath, fspath, join, getcwd, sep = os.path.realpath, os.fspath, os.path.join, os.getcwd, os.sep
    tree = realpath(tree)
    allow_read = tuple(realpath(p) for p in (*allow_read, tree, *_SYSTEM_READ))
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    blocked = frozenset({
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "resource.setrlimit", "resource.prlimit", "gc.get_objects", "gc.get_referrers",
        "gc.get_referents", "socket.connect", "socket.bind", "socket.sendto",
        "socket.sendmsg", "urllib.Request", "os.setuid", "os.setgid", "os.chroot",
    })
    path_write_events = {  # event -> indices of path arguments
        "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
        "os.link": (0, 1), "os.symlink": (1,), "os.chmod": (0,), "os.chown": (0,),
        "os.truncate": (0,), "os.utime": (0,), "os.chflags": (0,), "os.lchflags": (0,),
        "os.lchmod": (0,), "os.setxattr": (0,), "os.removexattr": (0,),
        "shutil.rmtree": (0,), "shutil.move": (0, 1), "shutil.copyfile": (1,),
        "shutil.copytree": (1,), "os.mkfifo": (0,), "os.mknod": (0,),
    }
    list_events = ("os.listdir", "os.scandir", "glob.glob", "glob.glob/2")

    def resolve(p):
        if isinstance(p, int) or p is None:
            return None
        try:
            p = fspath(p)
        except TypeError:
            return None
        if isinstance(p, bytes):
            p = p.decode("utf-8", "surrogateescape")
        if not p.startswith(sep):
            p = join(getcwd(), p)
        return realpath(p)

    def inside(p, roots):
        for r in roots:
            if p == r or p.startswith(r + sep):
                return True
        return False

    def check_read(p):
        if p is not None and not inside(p, allow_read):
            raise PermissionError(f"sandbox: reading {p} is not allowed while grading "
                                  "(only the grading folder and the Python installation)")

    def check_write(p):
        if p is not None and not (p == tree or p.startswith(tree + sep)) and p != "/dev/null":
            raise PermissionError(f"sandbox: writing {p} (outside the grading folder) is not allowed")

    def hook(event, args):
        if event == "open":
            path = args[0]
            mode = args[1] if len(args) > 1 else None
            flags = args[2] if len(args) > 2 else 0
            p = resolve(path)
            if p is None:
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags)
            if writing:
                check_write(p)
            check_read(p)
        elif event in path_write_events:
            for i in path_write_events[event]:
                if i < len(args):
                    check_write(resolve(args[i]))
        elif event in list_events:
            if args:
                check_read(resolve(args[0]) if args[0] is not None else resolve("."))
        elif event in blocked or event.startswith("ctypes."):
            raise PermissionError(f"sandbox: {event} is not allowed while grading")

    return hook


def main():
    tree, student_file, module_name = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg = json.loads(sys.stdin.readline())
    nonce = cfg.pop("nonce")
    # Nothing more comes from the parent; later reads of stdin get EOF.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.path[:] = [tree] + [p for p in sys.path[1:] if p]
    os.chdir(tree)
    _limits(cfg)

    import importlib.util

    import numpy  # noqa: F401  (imported before the student, with the limits on)

    from course_lib.grading import wire

    if not os.path.realpath(wire.__file__).startswith(os.path.realpath(tree) + os.sep):
        raise SystemExit(f"runner: course_lib imported from {wire.__file__}, not from the grading tree")
    jobdir = os.path.join(tree, ".grading")
    calls = wire.load(jobdir, stem="inputs")
    outdir = os.path.join(jobdir, "out")
    os.makedirs(outdir, exist_ok=True)
    dump_raw, encode = wire.dump_raw, wire.encode

    def describe(exc, with_tb=False):
        try:
            msg = str(exc)
        except BaseException:
            msg = "<unprintable message>"
        line = None
        try:  # the last line of the submission the exception went through
            tb = exc.__traceback__
            while tb is not None:
                if tb.tb_frame.f_code.co_filename == student_file:
                    line = tb.tb_lineno
                tb = tb.tb_next
        except BaseException:
            line = None
        if line is not None and not with_tb:
            msg = f"{msg[:1900]} (line {line} of your file)"
        info = {"type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
                "message": msg[:2000]}
        if with_tb:
            try:  # only the submission's own frames, with paths relative to the tree
                te = traceback.TracebackException.from_exception(exc)
                te.stack = traceback.StackSummary.from_list(
                    [f for f in te.stack if f.filename == student_file])
                text = "".join(te.format()).replace(os.path.join(tree, ""), "")
                info["traceback"] = text[-4000:]
            except BaseException:
                info["traceback"] = ""
        return info

    sys.addaudithook(_make_hook(tree, cfg["allow_read"]))
    arrays = []
    import_error = None
    call_docs = {}
    module = None
    try:
        spec = importlib.util.spec_from_file_location(module_name, student_file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included
        import_error = describe(exc, with_tb=True)
        module = None
    if module is not None:
        for call in calls:
            cid = call["id"]
            try:
                fn = getattr(module, call["function"])
                value = fn(*call["args"], **call["kwargs"])
                call_docs[cid] = {"value": encode(value, arrays)}  # snapshot right away
            except BaseException as exc:
                call_docs[cid] = {"error": describe(exc)}
    # Undo any change the submission made to the shared builtins (the JSON and
    # path code used below looks them up there), then write the results.
    real = vars(_b)
    for key in [k for k in real if k not in _SAVED_BUILTINS]:
        del real[key]
    real.update(_SAVED_BUILTINS)
    doc = {"nonce": nonce, "import_error": import_error, "calls": call_docs}
    dump_raw(doc, arrays, outdir, stem="results")
    fd = os.open(os.path.join(outdir, "DONE"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, nonce.encode())
    os.close(fd)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(0)  # skip atexit handlers and threads the submission may have left


if __name__ == "__main__":
    main()
