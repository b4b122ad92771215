"""Child-process runner of the grader: calls a submission's functions, writes plain data.

Run by :mod:`course_lib.grading.sandbox` as a script, from a throwaway copy of
the course tree::

    python -I -B TREE/course_lib/grading/_runner.py TREE STUDENT_FILE MODULE_NAME

It reads its settings (a nonce, limits, the folders it may read, the isolation
in use, the number of the file descriptor for results) from stdin, limits
itself (memory, CPU, file size), imports NumPy and the codec, reads the call
inputs, confines itself with Landlock when asked (the fallback where bubblewrap
is missing), installs an audit hook, and only then imports the student's file.
Each call's return value (or exception type and message) is written with the
plain-data codec as one blob to the results descriptor, which the parent opened
outside the tree; nothing the child leaves in its tree is read back. The parent never trusts anything here beyond
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
    """Memory, address-space, CPU-time, file-size and core-dump limits (best effort where the OS
    refuses one)."""
    try:
        import resource
    except ImportError:  # Windows: only the parent's wall-time limit applies
        return
    # RLIMIT_DATA bounds what the code allocates (heap, anonymous mappings: a 6 GB tensor is refused);
    # RLIMIT_AS is a looser backstop, because libraries such as CUDA torch map ~3.5 GiB of code.
    wanted = [("RLIMIT_DATA", int(cfg["memory"])), ("RLIMIT_AS", int(cfg["address_space"])),
              ("RLIMIT_CPU", int(cfg["cpu_seconds"])),
              ("RLIMIT_FSIZE", int(cfg["max_file_bytes"])), ("RLIMIT_CORE", 0)]
    for name, value in wanted:
        which = getattr(resource, name, None)
        if which is None or (value <= 0 and name != "RLIMIT_CORE"):
            continue
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):  # e.g. macOS refuses RLIMIT_AS
            pass


# Landlock (Linux >= 5.13): the kernel confines this process and its children to the
# listed paths, whatever code runs (native libraries included). Constants from
# <linux/landlock.h>; the syscall numbers are the same on every architecture.
_LL_CREATE, _LL_ADD_RULE, _LL_RESTRICT = 444, 445, 446
_LL_FS_FILE = (1 << 0) | (1 << 1) | (1 << 2)  # execute, write_file, read_file (rights a file rule may hold)
_LL_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read_file, read_dir


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when unavailable."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        v = libc.syscall(ctypes.c_long(_LL_CREATE), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        return max(int(v), 0)
    except (OSError, AttributeError, ValueError):
        return 0


def _landlock(read_paths, write_paths, rw_files):
    """Confine this process: read/execute ``read_paths``, everything under ``write_paths``,
    read/write the files ``rw_files``; no other file, no TCP, no signals or abstract
    sockets outside (ABI >= 4 / 6). Raises OSError when the kernel refuses."""
    import ctypes

    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fs = (1 << 13) - 1
    if abi >= 2:
        fs |= 1 << 13  # refer
    if abi >= 3:
        fs |= 1 << 14  # truncate
    if abi >= 5:
        fs |= 1 << 15  # ioctl_dev

    class Ruleset(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]

    attr = Ruleset(fs, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = ctypes.sizeof(Ruleset) if abi >= 6 else (16 if abi >= 4 else 8)
    rs = libc.syscall(ctypes.c_long(_LL_CREATE), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if rs < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        rules = [(p, _LL_FS_READ) for p in read_paths] + [(p, fs) for p in write_paths]
        rules += [(p, _LL_FS_FILE | (fs & (1 << 14))) for p in rw_files]
        for path, access in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # a path this machine does not have
            try:
                if not os.path.isdir(path):
                    access &= _LL_FS_FILE | (1 << 14) | (1 << 15)
                rule = PathBeneath(access & fs, fd)
                if libc.syscall(ctypes.c_long(_LL_ADD_RULE), ctypes.c_int(rs), ctypes.c_int(1),
                                ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(ctypes.c_long(_LL_RESTRICT), ctypes.c_int(rs), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(rs)


# Read-only system files ordinary numeric code may open besides the Python installation.
_SYSTEM_READ = ("/dev/null", "/dev/urandom", "/dev/random", "/etc/localtime", "/usr/share/zoneinfo",
                "/proc/self", "/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu")

# What bubblewrap mounts read-only besides the Python installation (sandbox._bwrap_args): the
# system's shared libraries and the loader's cache. Landlock must allow the same for native code
# (torch dlopens libdl.so.2, libgomp, ... from /usr/lib), or a torch exercise crashes on import.
# Only the kernel rule gets them; the audit hook keeps its narrower list for Python-level opens.
_SYSTEM_LIBS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc/ld.so.cache", "/etc/alternatives")


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
    lib_roots = tuple(r for r in (realpath(p) for p in allow_read) if r != tree and not r.startswith(tree + sep))
    allow_read = tuple(realpath(p) for p in (*allow_read, tree, *_SYSTEM_READ))
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    blocked = frozenset({
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
        "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "resource.setrlimit", "resource.prlimit", "gc.get_objects", "gc.get_referrers",
        "gc.get_referents", "socket.connect", "socket.bind", "socket.sendto",
        "socket.sendmsg", "urllib.Request", "os.setuid", "os.setgid", "os.chroot",
        "os.posix_spawnp", "os.add_dll_directory",
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
    # Modules that reach native code or start processes without an audit event of their own.
    denied_imports = frozenset({"cffi", "_cffi_backend", "_posixsubprocess",
                                "_signal", "posix", "_testcapi", "_xxsubinterpreters"})

    def resolve(p, relative_ok=False):
        """Absolute real path of ``p``; ``""`` (denied) when it cannot be resolved for sure:
        bytearray/memoryview paths, and relative paths to ``open`` (a ``dir_fd`` is invisible
        to audit hooks, so such a path may be relative to any folder)."""
        if p is None:
            return None
        if isinstance(p, int):
            return None  # an already open descriptor: the access was checked when it was opened
        try:
            p = fspath(p)
        except TypeError:
            return ""
        if type(p) is bytes:
            p = p.decode("utf-8", "surrogateescape")
        elif type(p) is not str:
            return ""
        if not p.startswith(sep):
            if not relative_ok:
                return ""
            p = join(getcwd(), p)
        return realpath(p)

    def inside(p, roots):
        for r in roots:
            if p == r or p.startswith(r + sep):
                return True
        return False

    def check_read(p):
        if p == "":
            raise PermissionError("sandbox: only absolute str/bytes paths may be opened while grading")
        if p is not None and not inside(p, allow_read):
            raise PermissionError(f"sandbox: reading {p} is not allowed while grading "
                                  "(only the grading folder and the Python installation)")

    def check_write(p):
        if p == "":
            raise PermissionError("sandbox: only absolute str/bytes paths may be written while grading")
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
                    check_write(resolve(args[i], relative_ok=event.startswith("shutil.")))
        elif event in list_events:
            if args:
                check_read(resolve(args[0] if args[0] is not None else ".", relative_ok=True))
        elif event == "ctypes.dlopen":
            # torch loads its own libraries with ctypes.CDLL(<site-packages path>): allowed; dlopen(None),
            # libc or a library outside the installation (what native attacks need) is not.
            name = args[0] if args else None
            target = resolve(name) if isinstance(name, (str, bytes)) else ""
            if not target or not inside(target, lib_roots):
                raise PermissionError(f"sandbox: ctypes.dlopen({name!r}) is not allowed while grading")
        elif event == "sqlite3.connect":  # SQLite opens its files in C, without an "open" event
            db = args[0] if args else None
            if not (isinstance(db, str) and db == ":memory:"):
                target = resolve(db) if not (isinstance(db, str) and db.startswith("file:")) else ""
                check_write(target)
        elif event == "import":
            if args and str(args[0]).split(".")[0] in denied_imports:
                raise PermissionError(f"sandbox: importing {args[0]} is not allowed while grading")
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
    result_fd = int(cfg["result_fd"])
    _limits(cfg)

    import importlib.util
    import subprocess  # noqa: F401  (numpy.testing and others need it importable; Popen stays refused)

    import numpy  # noqa: F401  (imported before the student, with the limits on)

    from course_lib.grading import wire

    if not os.path.realpath(wire.__file__).startswith(os.path.realpath(tree) + os.sep):
        raise SystemExit(f"runner: course_lib imported from {wire.__file__}, not from the grading tree")
    jobdir = os.path.join(tree, ".grading")
    calls = wire.load(jobdir, stem="inputs")
    dump_blob, encode = wire.dump_blob, wire.encode
    os_write, os_lseek, os_ftruncate = os.write, os.lseek, os.ftruncate
    if cfg.get("isolation") == "landlock":
        # Kernel-enforced: read the installation and the tree, write only home/ and tmp/ of the tree.
        writable = [os.path.join(tree, "home"), os.path.join(tree, "tmp")]
        try:
            _landlock([p for p in cfg["allow_read"]] + list(_SYSTEM_READ) + list(_SYSTEM_LIBS), writable,
                      ["/dev/null"])
        except OSError as exc:
            raise SystemExit(f"runner: Landlock confinement failed ({exc})")

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

    # torch (and torchaudio) load native libraries through ctypes and cuda.pathfinder at import,
    # which the hook refuses; a submission that imports them gets them imported here first, under
    # the limits and the kernel confinement (the import counts against the time limit).
    import ast

    try:
        with open(student_file, "rb") as f:
            tree_ast = ast.parse(f.read())
        wanted = {a.name.split(".")[0] for n in ast.walk(tree_ast) if isinstance(n, ast.Import) for a in n.names}
        wanted |= {n.module.split(".")[0] for n in ast.walk(tree_ast)
                   if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
        wanted = set()
    for heavy in ("torch", "torchaudio"):
        if heavy in wanted:
            try:
                __import__(heavy)
            except ImportError:
                pass
    sys.addaudithook(_make_hook(tree, cfg["allow_read"]))
    # Signals to other processes and _posixsubprocess.fork_exec have no audit event of their own.
    import signal

    def _refused(*args, **kwargs):
        raise PermissionError("sandbox: signals and new processes are not allowed while grading")

    for mod, names in ((sys.modules.get("_posixsubprocess"), ("fork_exec",)),
                       (sys.modules.get("subprocess"), ("_fork_exec",)),
                       (signal, ("pidfd_send_signal", "pthread_kill", "sigqueue")),
                       (sys.modules.get("_signal"), ("pidfd_send_signal", "pthread_kill", "sigqueue")),
                       (os, ("pidfd_open", "kill", "killpg")), (sys.modules.get("posix"), ("pidfd_open", "kill", "killpg"))):
        for name in names:
            if mod is not None and hasattr(mod, name):
                setattr(mod, name, _refused)
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
    blob = dump_blob(doc, arrays)
    os_lseek(result_fd, 0, 0)  # whatever the submission wrote there is discarded
    os_ftruncate(result_fd, 0)
    view = memoryview(blob)
    while view:
        view = view[os_write(result_fd, view):]
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(0)  # skip atexit handlers and threads the submission may have left


if __name__ == "__main__":
    main()
