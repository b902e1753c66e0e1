"""Knowledge of the shipped corpus lives beside it (``corpus/*.toml``), never in the library's code.

A user who indexes another corpus must not silently get this corpus's names: so no string literal in
``src/coopqa`` (docstrings aside, which may give examples) holds a proper name the shipped corpus uses.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"


def _corpus_names() -> tuple[set[str], set[str]]:
    """The corpus's acronyms as written (« AMEM », « FMMD »), and the glossary's names lower-cased (« athenes », « troika »)."""
    text = (CORPUS / "cooperation-multilaterale.txt").read_text(encoding="utf-8")
    acronyms = set(re.findall(r"\b[A-Z][A-Z]{2,}\b", text))
    glossary = tomllib.loads((CORPUS / "glossary.toml").read_text(encoding="utf-8"))
    keys = {entry["key"].split(":", 1)[1] for entry in glossary["entry"]}
    return acronyms, {name.lower() for name in keys | {"Maroc", "Troïka", "Morocco"}}


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module that are not docstrings, with their line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_name_of_the_shipped_corpus_is_written_in_the_library_code() -> None:
    acronyms, names = _corpus_names()
    assert {"AMEM", "FMMD", "OIM"} <= acronyms and {"athenes", "maroc"} <= names, "the check must know the corpus's names to be worth anything"
    found = []
    for path in sorted((ROOT / "src" / "coopqa").rglob("*.py")):
        for line, value in _code_strings(path):
            words = set(re.findall(r"\w+", value))
            hits = sorted(words & acronyms | {word.lower() for word in words} & names)
            if hits:
                found.append(f"{path.relative_to(ROOT)}:{line}: {', '.join(hits)}")
    assert not found, "corpus names written as code (move them to corpus/*.toml):\n" + "\n".join(found)
