"""The container image installs the same wheel the tests install: built from
pyproject.toml and operator/ alone, with the kubedora console script."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "--wheel-dir", str(out), str(ROOT)],
        check=True,
    )  # fmt: skip
    (built,) = out.glob("kubedora-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_the_whole_package_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("cli.py", "handlers/registry.py", "crdgen.py", "receiver/app.py"):
        assert f"kubedora/{module}" in names
    assert "kubedora/py.typed" in names
    # Served at /openapi.json.
    assert "kubedora/receiver/openapi.json" in names
    assert not any(name.startswith(("tests/", "operator/")) for name in names)


def test_the_wheel_installs_the_kubedora_command(wheel: zipfile.ZipFile) -> None:
    entry_points = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "kubedora = kubedora.cli:main" in wheel.read(entry_points).decode()


def test_the_dockerfile_builds_that_wheel_from_what_the_context_sends() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE)
    sources = {src for line in copied for src in line.split()}
    assert sources == {"pyproject.toml", "README.md", "operator"}
    assert "pip wheel --no-cache-dir --wheel-dir /wheels ." in dockerfile
    allowed = (ROOT / ".dockerignore").read_text().splitlines()
    for source in sources:
        assert f"!{source}" in allowed or f"!{source}/" in allowed
    # Non-root, and only runtime dependencies: no test extras in the image.
    assert re.search(r"^USER 10001", dockerfile, flags=re.MULTILINE)
    assert "[test]" not in dockerfile
