"""The documents name only files that exist: every repository path written in README.md
and docs/*.md (in backticks, a code block, a link or the prose) is there, so a move that
forgets the docs fails here instead of leaving a newcomer to look for a file that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# A path from the repository's root, not a part of a longer one (`../shared/…`, a URL).
PATH = re.compile(r"(?<![\w./-])((?:app|templates|tests|bench|migrations|docs)/[\w./*<>-]*)")


def resolves(written: str) -> bool:
    """Whether a path as the docs write it names something in the repository: a file or a
    folder, a glob that matches, a folder before a `<placeholder>`, or `module.name` (a
    name in module.py)."""
    path = written.rstrip(".,;")
    if "<" in path:
        path = path[: path.index("<")]
    if "*" in path:
        return any(ROOT.glob(path))
    if (ROOT / path).exists():
        return True
    folder, _, last = path.rpartition("/")
    module = last.split(".", 1)[0]
    return bool(module) and (ROOT / folder / f"{module}.py").is_file()


def paths_in(text: str) -> list[tuple[int, str]]:
    return [
        (number, match.group(1))
        for number, line in enumerate(text.splitlines(), start=1)
        for match in PATH.finditer(line)
    ]


def test_every_path_the_documents_name_exists():
    missing = [
        f"{document.relative_to(ROOT)}:{number}: {path}"
        for document in DOCUMENTS
        for number, path in paths_in(document.read_text(encoding="utf-8"))
        if not resolves(path)
    ]
    assert not missing, "Paths in the docs that do not exist:\n" + "\n".join(missing)


def test_the_check_finds_paths_and_refuses_wrong_ones():
    found = [path for _, path in paths_in("see `app/web/kit/access.py` and [x](tests/unit/).")]
    assert found == ["app/web/kit/access.py", "tests/unit/"]
    assert paths_in("../shared/app/x.py and https://host/app/y.py") == []
    assert all(map(resolves, ["app/ops/", "templates/<area>/", "app/projections/tables.py."]))
    assert resolves("app/queries/freshness.projected_version")
    assert not resolves("app/web/access.py")
    assert not resolves("app/queries/ops.py")
