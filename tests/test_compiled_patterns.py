"""Large regular expressions kept compiled on disk: the same pattern objects
as `re.compile`'s (patterns compare equal only when their code does),
whether generated now, read back by another process, or regenerated
from a damaged file."""

from __future__ import annotations

import marshal
import re
import subprocess
import sys
import textwrap
from types import SimpleNamespace

from pipeline.classify import compiled_patterns
from pipeline.classify.compiled_patterns import LARGE_PATTERN_CHARS, compiled_once

# Like spaCy's French token_match: inline flags, many alternatives, a named group.
PATTERN = "(?iu)(?P<mot>" + "|".join(f"(?:^mot{n}[-‐]ci{n % 7}$)" for n in range(12_000)) + ")"


def test_a_large_pattern_is_compiled_once_and_is_the_same_pattern(tmp_path):
    assert len(PATTERN) >= LARGE_PATTERN_CHARS
    with compiled_once(tmp_path):
        cached = re.compile(PATTERN)
        small = re.compile("a+b")
    assert cached == re.compile(PATTERN) and cached.groupindex == {"mot": 1}
    assert cached.match("MOT42-CI0") and not cached.match("mot42-ci1")
    assert small == re.compile("a+b")  # small patterns go through re as usual
    assert re.compile.__module__ == "re"  # put back after the block
    [stored] = list(tmp_path.iterdir())
    written = stored.read_bytes()

    # Another process reads the code back instead of generating it again…
    assert _same_pattern_in_another_process(tmp_path)
    assert stored.read_bytes() == written
    # …and generates it again, whole, when the file is damaged.
    stored.write_bytes(b"not a marshalled code")
    assert _same_pattern_in_another_process(tmp_path)
    assert stored.read_bytes() == written and list(tmp_path.iterdir()) == [stored]


def test_a_file_holding_another_code_is_generated_again(tmp_path):
    assert _same_pattern_in_another_process(tmp_path)
    [stored] = list(tmp_path.iterdir())
    written = stored.read_bytes()
    flags, code, *rest = marshal.loads(written)
    for damaged in ((flags, [99_999, *code[1:]], *rest), (flags, code), ("not", "a", "code")):
        stored.write_bytes(marshal.dumps(damaged))  # readable, but not a code the engine accepts
        assert _same_pattern_in_another_process(tmp_path)
        assert stored.read_bytes() == written


def test_without_the_internals_it_knows_re_compiles_as_usual(tmp_path, monkeypatch):
    """Another Python release may move `re`'s stages: the model still loads."""
    monkeypatch.setattr(compiled_patterns, "_compiler", SimpleNamespace())  # a re._compiler without _code
    with compiled_once(tmp_path):
        cached = re.compile(PATTERN + "|other")
    assert cached.match("MOT42-CI0") and cached.match("other")
    assert list(tmp_path.iterdir()) == []


def _same_pattern_in_another_process(folder) -> bool:
    script = textwrap.dedent(f"""
        import re
        from pathlib import Path
        from pipeline.classify.compiled_patterns import compiled_once
        pattern = {PATTERN!r}
        with compiled_once(Path({str(folder)!r})):
            cached = re.compile(pattern)
        print(cached == re.compile(pattern))
    """)
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip() == "True"
