"""The chat's words about its corpus (title, what it covers, example questions), from ``examples.toml`` in the corpus folder.

Example questions are about one corpus (« Qui finance le projet AMEM ? »), and so are the chat's title and
its one-line description of what can be asked: they are the corpus's data, not the chat's code. A corpus
without the file gets a neutral title and description and no examples. The file's header describes its format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coopqa.corpus_data import one_line, read_corpus_toml
from coopqa.errors import ConfigError

EXAMPLES_FILE = "examples.toml"
_HINT = f'write questions = ["…", …] (see the shipped corpus/{EXAMPLES_FILE}), or delete the file to show no examples'
_TEXTS = ("title", "about")
#: What a corpus without ``examples.toml`` (or without these keys) is shown as.
DEFAULT_TITLE = "coopqa"
DEFAULT_ABOUT = "Posez une question sur le corpus (en français, en anglais ou en arabe) : chaque réponse cite ses passages sources."


@dataclass(frozen=True)
class ChatTexts:
    """The chat's title, its description of what can be asked, and the example questions, in order."""

    title: str = DEFAULT_TITLE
    about: str = DEFAULT_ABOUT
    questions: tuple[str, ...] = ()


def load_chat_texts(corpus_dir: Path) -> ChatTexts:
    """The chat's texts for the corpus in ``corpus_dir``; the defaults for what ``examples.toml`` does not give.

    Any problem in the file is a one-line :class:`ConfigError` naming the file and the field.
    """
    path = corpus_dir / EXAMPLES_FILE
    data = read_corpus_toml(path, _HINT)
    if data is None:
        return ChatTexts()
    unknown = sorted(set(data) - {"questions", *_TEXTS})
    if unknown:
        raise ConfigError(f"{path}: unknown key {one_line(unknown[0], 60)!r} (the file holds 'title', 'about' and 'questions')", _HINT)
    for key in _TEXTS:
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise ConfigError(f"{path}: {key!r} must be non-empty text", _HINT)
    return ChatTexts(data.get("title", DEFAULT_TITLE), data.get("about", DEFAULT_ABOUT), _questions(path, data))


def load_examples(corpus_dir: Path) -> tuple[str, ...]:
    """The example questions of the corpus in ``corpus_dir``, in order; none when it has no ``examples.toml``.

    Any problem in the file is a one-line :class:`ConfigError` naming the file and the field.
    """
    return load_chat_texts(corpus_dir).questions


def _questions(path: Path, data: dict[str, object]) -> tuple[str, ...]:
    if "questions" not in data:
        raise ConfigError(f"{path}: 'questions' is missing", _HINT)
    questions = data["questions"]
    if not isinstance(questions, list):
        raise ConfigError(f"{path}: 'questions' is not a list of questions", _HINT)
    for number, question in enumerate(questions, start=1):
        if not isinstance(question, str):
            raise ConfigError(f"{path}: 'questions' item {number} is not text", _HINT)
        if not question.strip():
            raise ConfigError(f"{path}: 'questions' item {number} is empty", _HINT)
    return tuple(questions)
