"""Compiled kernels: numba, compiled on first use and cached on disk.

The modules that hold kernels (``*_kernel.py``) are imported lazily by the code that calls them, so
that ``import kyojosim`` neither imports numba nor compiles anything. :func:`compiled` compiles a
function with ``numba.njit(cache=True)``: the machine code is cached next to the module in
``__pycache__`` when that folder is writable, else in numba's per-user cache folder or in
``NUMBA_CACHE_DIR``; when no cache folder is writable at all, the kernel is compiled without a
cache, once per process, with the same result. Kernels use no fast-math: they do the same IEEE
operations in the same order as the numpy code they stand for, so their results are bit for bit
those of that code (the tests compare them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numba

F = TypeVar("F", bound=Callable)


def compiled(func: F | None = None, *, inline: bool = False) -> F | Callable[[F], F]:
    """Compile ``func`` lazily with numba (no Python objects, no GIL), caching the machine code where possible.

    ``njit(cache=True)`` looks for a writable cache folder when it decorates and raises RuntimeError
    when it finds none; the function is then compiled without a cache. ``@compiled(inline=True)``
    marks a small helper that other kernels call in their inner loops: numba then inlines it into
    them (no call, no reference counting of its array arguments per call).
    """
    if func is None:
        return lambda f: compiled(f, inline=inline)
    options = {"inline": "always"} if inline else {}
    try:
        return numba.njit(cache=True, nogil=True, **options)(func)
    except RuntimeError:
        return numba.njit(cache=False, nogil=True, **options)(func)


__all__ = ["compiled"]
