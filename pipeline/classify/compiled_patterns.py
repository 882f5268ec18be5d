"""Large regular expressions compiled once per machine, not once per process.

spaCy's French language data compiles, when it is imported, one regular
expression of 1.4 million characters (the hyphenated words its tokenizer
keeps whole). Python compiles a pattern in Python code, a parse then a
code generation, so that expression alone takes 3 to 5 s in every process
that loads the classifier: most of the model's load, and a large part of
the delay between a file dropped in the raw folder and its report.

Inside `compiled_once(folder)`, `re.compile` keeps the generated code of a
large pattern in `folder` and rebuilds the pattern object from it with
`_sre.compile`, the call that ends `re`'s own compilation: the same
object, code included (patterns compare equal only when their code does).
The key holds the pattern, its flags and the versions of Python and of its
regular expression engine (`_sre.MAGIC`), so a code is only ever read
back by the Python that generated it; the files are `marshal` data
(integers and strings), never pickles.
"""

from __future__ import annotations

import hashlib
import importlib
import marshal
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# CPython's own modules behind re.compile (untyped): its two stages, then the engine.
_parser = importlib.import_module("re._parser")
_compiler = importlib.import_module("re._compiler")
_sre = importlib.import_module("_sre")

# Below this many characters a pattern compiles faster than its file is read.
LARGE_PATTERN_CHARS = 100_000

# What `_sre.compile` takes after the pattern: flags, code, groups, group index, index group.
Generated = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
Compile = Callable[[str, int], "re.Pattern[str]"]

_compiled: dict[tuple[str, int], re.Pattern[str]] = {}  # this process's, like re's own cache
_lock = threading.Lock()


@contextmanager
def compiled_once(folder: Path) -> Iterator[None]:
    """While the block runs, large patterns come from `folder` (and are put
    there the first time). Meant for a model's load: `re.compile` is
    replaced for every thread meanwhile."""
    original = re.compile

    def compile(pattern: Any, flags: int | re.RegexFlag = 0) -> re.Pattern[Any]:
        if isinstance(pattern, str) and len(pattern) >= LARGE_PATTERN_CHARS and not flags & re.DEBUG:
            return _load(folder, pattern, int(flags), original)
        return original(pattern, flags)

    re.compile = compile  # for the block's duration only
    try:
        yield
    finally:
        re.compile = original


def _load(folder: Path, pattern: str, flags: int, fallback: Compile) -> re.Pattern[str]:
    with _lock:
        if (pattern, flags) not in _compiled:
            key = hashlib.sha256(f"{sys.version}\0{_sre.MAGIC}\0{flags}\0{pattern}".encode("utf-8", "surrogatepass"))
            path = folder / f"{key.hexdigest()}.marshal"
            try:
                _compiled[pattern, flags] = _sre.compile(pattern, *marshal.loads(path.read_bytes()))
            except (OSError, EOFError, ValueError, TypeError, RuntimeError):  # absent, damaged or not a code
                _compiled[pattern, flags] = _generated(path, pattern, flags, fallback)
        return _compiled[pattern, flags]


def _generated(path: Path, pattern: str, flags: int, fallback: Compile) -> re.Pattern[str]:
    """The pattern compiled here and its code kept in `path`. Where CPython's
    internals are not the ones this module knows (another Python release),
    `fallback`, re's own compile, does it as usual: the file only ever
    saves time, it never stops a model from loading."""
    try:
        arguments = _generate(pattern, flags)
        compiled: re.Pattern[str] = _sre.compile(pattern, *arguments)
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return fallback(pattern, flags)
    _write(path, marshal.dumps(arguments))
    return compiled


def _generate(pattern: str, flags: int) -> Generated:
    """What `re._compiler.compile` hands to `_sre.compile` after the pattern
    string, as plain integers (the opcodes are an int subclass)."""
    parsed = _parser.parse(pattern, flags)
    code = [int(word) for word in _compiler._code(parsed, flags)]
    groupindex: dict[str, int] = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return int(flags | parsed.state.flags), code, parsed.state.groups - 1, groupindex, tuple(indexgroup)


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all, whoever else writes the same file meanwhile; a
    folder that cannot be written only costs the compilation next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
