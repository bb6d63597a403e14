"""The layering holds (import-linter), a forbidden import breaks it, and the code cites only docs/ that exist."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120)


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def copy_of_project(tmp_path):
    """The package and the contracts, copied so that a test can plant a bad import."""
    shutil.copytree(ROOT / "tracker", tmp_path / "tracker", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


@pytest.mark.parametrize("module, planted, contract", [
    ("services/scope.py", "import tracker.api.presenters", "Layers call downwards only"),
    ("services/lookup.py", "from tracker.web import lookup", "Layers call downwards only"),
    ("web/stats.py", "from tracker.api import public_stats", "Layers call downwards only"),
    ("domain/codes.py", "from tracker.models import Dossier", "Layers call downwards only"),
    ("models/dossiers.py", "from tracker.services import clock", "Layers call downwards only"),
    ("database.py", "from tracker.models import Dossier", "Layers call downwards only"),
    ("services/codes.py", "from tracker.http import caching", "Use cases do not speak HTTP"),
    ("services/clock.py", "from tracker.services import dossiers", "No import cycles between sibling modules"),
])
def test_a_forbidden_import_breaks_a_contract(copy_of_project, module, planted, contract):
    path = copy_of_project / "tracker" / module
    path.write_text(path.read_text() + f"\n{planted}  # planted by the test\n")
    result = _lint(copy_of_project)
    assert result.returncode != 0, result.stdout
    assert re.search(rf"{re.escape(contract)} BROKEN", result.stdout), result.stdout


CITATION = re.compile(r"docs/([a-z-]+\.md)#([a-z0-9-]+)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_rule_citation_names_a_section_of_docs():
    anchors = {}
    for doc in (ROOT / "docs").glob("*.md"):
        anchors[doc.name] = {_anchor(line.lstrip("#")) for line in doc.read_text().splitlines()
                             if line.startswith("#")}
    cited = []
    for source in list((ROOT / "tracker").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        for name, anchor in CITATION.findall(source.read_text()):
            cited.append((source.relative_to(ROOT), name, anchor))
    assert cited, "no citation found: the pattern is wrong"
    missing = [c for c in cited if c[2] not in anchors.get(c[1], set())]
    assert not missing, missing


def test_nothing_cites_a_file_outside_the_repository():
    pattern = re.compile(r"DOMAIN\.md|API\.md|ARCHITECTURE\.md|\.\./shared")
    offenders = []
    for source in ROOT.rglob("*"):
        if (source.is_file() and source.suffix in {".py", ".md", ".html", ".cfg", ".toml", ".ini"}
                and ".venv" not in source.parts and ".git" not in source.parts):
            if pattern.search(source.read_text(errors="replace")):
                offenders.append(source.relative_to(ROOT))
    assert not offenders, offenders
