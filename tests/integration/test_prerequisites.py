"""`make test` on a bare machine: scripts/test-prerequisites.sh finds the missing system
packages and, for a user who cannot install them, prints the one command to run and stops."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "test-prerequisites.sh"
COMMAND = "apt-get update -qq && apt-get install -y -qq chromium libcairo2"


@pytest.fixture
def tmp_path():
    """A folder the unprivileged user can read (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="prerequisites-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def _bin(tmp_path: Path, **fakes: str) -> Path:
    """A PATH of its own: the few tools the script uses, plus fake programs."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("bash", "sh", "id", "grep"):
        (folder / tool).symlink_to(shutil.which(tool))
    # The script also looks in /sbin for ldconfig: a fake one here comes first.
    for name, body in {"ldconfig": "exit 0", **fakes}.items():
        (folder / name).write_text("#!/bin/sh\n" + body + "\n")
        (folder / name).chmod(0o755)
    return folder


def _run_as_user(path: Path) -> subprocess.CompletedProcess:
    # As an ordinary user even when the suite runs as root: the script must not install then.
    drop = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
    return subprocess.run([str(path / "bash"), str(SCRIPT)], env={"PATH": str(path)}, capture_output=True,
                          text=True, timeout=30, **drop)


def test_a_bare_machine_gets_the_command_to_run(tmp_path):
    result = _run_as_user(_bin(tmp_path))
    assert result.returncode != 0
    assert "chromium libcairo2" in result.stderr.splitlines()[0]
    assert COMMAND in result.stderr


def test_only_the_missing_package_is_named(tmp_path):
    result = _run_as_user(_bin(tmp_path, chromium="exit 0"))
    assert result.returncode != 0
    assert "need libcairo2." in result.stderr and COMMAND in result.stderr


def test_nothing_to_do_when_both_are_there(tmp_path):
    result = _run_as_user(_bin(tmp_path, chromium="exit 0",
                               ldconfig="echo '\tlibcairo.so.2 (libc6,x86-64) => /usr/lib/libcairo.so.2'"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
