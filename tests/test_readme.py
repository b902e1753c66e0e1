"""The README stays what a newcomer needs: short, with the two commands and every linked page present."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_at_most_15000_characters_with_the_two_commands_on_its_first_screen() -> None:
    assert len(README) <= 15_000, f"README.md is {len(README)} characters: move detail to docs/"
    first_screen = "\n".join(README.splitlines()[:45])
    assert "bash scripts/run-app.sh" in first_screen and "bash scripts/test.sh" in first_screen
    assert "Headline figures" in first_screen
    for script in ("scripts/run-app.sh", "scripts/test.sh"):
        assert (ROOT / script).is_file()


def test_every_page_the_readme_links_exists() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local, "the README links its docs pages"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"
