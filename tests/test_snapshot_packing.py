"""build.pack_snapshot: the page's Python snapshot without its zero pages, and back."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import build  # noqa: E402  (the repo's build.py)

PAGE = build.PACKED_PAGE


def memory_like_a_heap(size: int, seed: int) -> bytes:
    """Pages of random bytes among pages of zeros, and a few zero pages with one byte set."""
    rng = random.Random(seed)
    out = bytearray(size)
    for start in range(0, size, PAGE):
        roll = rng.random()
        if roll < 0.4:
            end = min(start + PAGE, size)
            out[start:end] = rng.randbytes(end - start)
        elif roll < 0.5:
            out[min(start + rng.randrange(PAGE), size - 1)] = rng.randrange(1, 256)
    return bytes(out)


@pytest.mark.parametrize("size", [PAGE * 64, PAGE * 64 + 123, 1, PAGE - 1])
@pytest.mark.parametrize("seed", [1, 2])
def test_packing_gives_back_the_same_memory(size: int, seed: int):
    memory = memory_like_a_heap(size, seed)
    packed = build.pack_snapshot(memory)
    assert build.unpack_snapshot(packed) == memory


def test_zero_pages_are_not_stored():
    memory = bytearray(PAGE * 100)
    memory[PAGE * 3 + 7] = 1  # one page holds something
    memory[-1] = 2  # and the last one
    packed = build.pack_snapshot(bytes(memory))
    header = 8 + 4 + 4 + 2 * 8  # magic, size, count, two runs
    assert len(packed) == header + 2 * PAGE
    assert build.unpack_snapshot(packed) == memory


def test_an_all_zero_memory_packs_to_its_header():
    packed = build.pack_snapshot(bytes(PAGE * 5))
    assert len(packed) == 16
    assert build.unpack_snapshot(packed) == bytes(PAGE * 5)


def test_something_else_is_refused():
    with pytest.raises(ValueError, match="not a packed snapshot"):
        build.unpack_snapshot(b"\0asm" + bytes(100))
