"""Giving freed memory back: done where the C library can, harmless where not."""

from __future__ import annotations

import ctypes

import pytest

from kubedora.handlers import heap


def test_freed_memory_is_given_back_where_the_c_library_can() -> None:
    # This machine's C library is glibc, like the image's (python:3.11-slim).
    assert heap.release_free_memory("a test")


def test_without_malloc_trim_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    class Musl:
        def __init__(self, name: object) -> None:
            pass

        def __getattr__(self, name: str) -> object:
            raise AttributeError(name)

    heap._malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", Musl)
    try:
        assert not heap.release_free_memory("a test")
    finally:
        heap._malloc_trim.cache_clear()
