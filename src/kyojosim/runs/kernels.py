"""The compiled kernels, compiled ahead in a child process before a run or a sweep.

numba compiles a kernel at its first call and keeps the machine code in its cache on disk
(:mod:`kyojosim.compiled`); later processes load it from there. A process that compiles keeps what the
compiler used: the first run of a town at Koto's size after installing kyojosim peaks at about 1.4 GB
instead of about 1.0, and every worker of a first sweep compiles the same kernels at once.
:func:`compile_ahead` compiles them once, in a child process that steps a small town with every channel
through the turns of the years, and leaves a stamp beside numba's cache (:func:`stamp_folder`); while the
stamp is there (the kernels' sources, numba and Python unchanged), it does nothing. The model is the same either way:
compiling ahead only moves the compiler's work and memory out of the process that runs.

``KYOJOSIM_COMPILE_AHEAD=0`` in the environment turns it off (each process compiles what it calls, as
numba does by itself); the child runs with it. ``python -m kyojosim.runs.kernels STAMP`` is the child's work.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SWITCH = "KYOJOSIM_COMPILE_AHEAD"
"""The environment variable that turns compiling ahead off when it is ``0`` (set so in the child)."""

WARM_SCENARIO = "koto-all"
"""The town stepped by the child: every channel (offline, local SNS, sharing platform, reporting hub)."""

WARM_SCALE = 0.01
"""About 5,300 residents: every kernel runs, in a few seconds once compiled."""

WARM_YEARS = 5
"""Through five turns of the year: the local SNS's yearly passes start after its launch year (2018)."""


def _package() -> Path:
    """Return the folder of the kyojosim package."""
    return Path(__file__).resolve().parent.parent


def kernel_sources() -> list[Path]:
    """Return the package's modules of compiled kernels (``*_kernel.py``) and :mod:`kyojosim.compiled`, sorted."""
    root = _package()
    return sorted([*root.rglob("*_kernel.py"), root / "compiled.py"])


def stamp_name() -> str:
    """Return the stamp's file name for these kernels' sources (size and modification time), numba and Python.

    numba itself keys a cached kernel on its source file's size and modification time, so a changed
    source gives a new stamp and the kernels are compiled ahead again; so does another ``NUMBA_CACHE_DIR``.
    Nothing here imports numba (a sweep's own process never needs it).
    """
    from importlib import metadata

    root = _package()
    h = hashlib.sha1(f"{metadata.version('numba')} {sys.version} {os.environ.get('NUMBA_CACHE_DIR', '')}".encode())
    for path in kernel_sources():
        st = path.stat()
        h.update(f"{path.relative_to(root).as_posix()} {st.st_size} {st.st_mtime_ns}\n".encode())
    return f"kyojosim-kernels-{h.hexdigest()[:16]}.stamp"


def stamp_folder() -> Path | None:
    """Return the folder of the stamp: ``NUMBA_CACHE_DIR`` if set, else the package's ``__pycache__``.

    numba caches the kernels beside their modules when it can write there, else in that folder. None when the
    folder cannot be written: kyojosim is installed read-only and numba caches in its per-user folder, or not
    at all; each process then compiles what it calls, as numba does by itself.
    """
    folder = Path(os.environ.get("NUMBA_CACHE_DIR") or _package() / "__pycache__")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def compile_ahead(timeout: float = 1800.0, notify: Callable[[str], None] | None = None) -> str:
    """Compile the kernels into numba's cache in a child process, unless its stamp says they are there.

    Returns what happened, for a line of output: ``"cached"`` (the stamp was there), ``"compiled ahead in N s"``,
    or why nothing was done (turned off by ``KYOJOSIM_COMPILE_AHEAD=0``; no folder to write in: each process
    compiles them, as before; the child failed: the run compiles them itself, as it would have). Never raises for these.
    ``notify`` is called with a line to show just before the child starts (it takes about a minute).
    """
    if os.environ.get(SWITCH, "").strip() == "0":
        return f"not compiled ahead ({SWITCH}=0)"
    folder = stamp_folder()
    if folder is None:
        return "not compiled ahead: no folder to write in beside the cache (each process compiles them)"
    stamp = folder / stamp_name()
    if stamp.exists():
        return "cached"
    if notify is not None:
        notify("kyojosim: compiling the model's kernels once, in a child process (about a minute) ...")
    t0 = time.perf_counter()
    env = dict(os.environ, **{SWITCH: "0"})
    try:
        done = subprocess.run([sys.executable, "-m", "kyojosim.runs.kernels", str(stamp)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return f"not compiled ahead ({type(e).__name__}): the run compiles them"
    if done.returncode != 0 or not stamp.exists():
        last = (done.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        return f"not compiled ahead (the child failed: {last[0]}): the run compiles them"
    return f"compiled ahead in {time.perf_counter() - t0:.0f} s"


def to_stderr(line: str) -> None:
    """Show a line of :func:`compile_ahead` on stderr (its ``notify`` for a run or sweep that shows its progress)."""
    print(line, file=sys.stderr, flush=True)


def warm(stamp: Path, scenario: str = WARM_SCENARIO, scale: float = WARM_SCALE, years: int = WARM_YEARS) -> None:
    """Step a small town through ``years`` turns of the year (every kernel compiled or loaded), then write ``stamp``."""
    from ..atomic import write_text
    from ..model import KyojoModel

    model = KyojoModel(scenario, scale=scale, seed=1, years=years)
    while model.running:
        model.step()
    model.release()
    write_text(stamp, f"kernels compiled by {scenario} at scale {scale} for {years} years\n")


def main(argv: list[str] | None = None) -> int:
    """Do the child's work (``python -m kyojosim.runs.kernels STAMP``); return its exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m kyojosim.runs.kernels STAMP", file=sys.stderr)
        return 2
    warm(Path(args[0]))
    return 0


__all__ = ["SWITCH", "compile_ahead", "kernel_sources", "stamp_folder", "stamp_name", "to_stderr", "warm"]

if __name__ == "__main__":
    raise SystemExit(main())
