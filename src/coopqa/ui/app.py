"""The Gradio chat: ask in French, read cited passages, rate answers; plus the ``/ask`` API.

The model and index are loaded once (by ``app.py``) and shared by every
session; Gradio's queue bounds how many questions run at once. Conversations
live in server-side ``gr.State``, never in what the browser sends back, so a
crafted request cannot make the server render, log or serve anything it did
not produce itself. No event takes a path: the feedback file is fixed at
start-up.

(No ``from __future__ import annotations`` here: ``gr.api`` reads the ``/ask``
function's type hints at run time to document the endpoint.)
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from coopqa.errors import ConfigError, CoopqaError, InvalidHistoryError, InvalidQuestionError
from coopqa.pipeline import MAX_HISTORY_TURNS, Answer, Assistant, answer_to_json
from coopqa.ui.examples import ChatTexts, load_chat_texts
from coopqa.ui.render import CSS, MODE_LABELS, render_answer, render_notice, render_question

log = logging.getLogger("coopqa.ui")

#: (label shown, retrieval mode) — the labels are French, the API keeps the CLI's mode names.
MODE_CHOICES = [(label, mode) for mode, label in MODE_LABELS.items()]
#: The chat's k slider stops here; the API accepts what the retriever accepts (1–100).
UI_MAX_K = 10
#: A session keeps (and shows) this many exchanges, so a long-lived tab cannot grow server memory without end.
MAX_TURNS = 50
#: Questions waiting beyond this many are refused by the queue instead of piling up.
QUEUE_SIZE = 64

EMPTY_QUESTION = "Votre question est vide : écrivez une question en français, par exemple « {example} »"
#: For a corpus without example questions (no ``examples.toml`` in its folder, :mod:`coopqa.ui.examples`).
EMPTY_QUESTION_NO_EXAMPLE = "Votre question est vide : écrivez une question en français."
TOO_LONG = "Votre question est trop longue ({length} caractères, {limit} au plus) : raccourcissez-la et reposez-la."
BAD_CHARACTERS = "Votre question contient des caractères invalides (texte mal encodé). Retapez-la, s'il vous plaît."
NO_WORDS = "Je n'ai pas compris la question : elle ne contient aucun mot. Reformulez-la en français."
BAD_SETTINGS = "Réglages invalides : choisissez entre 1 et 100 passages et un mode hybride, sémantique ou lexical."
BAD_HISTORY = (
    "L'historique de la conversation n'est pas valide (au plus {turns} questions précédentes, chacune un texte valide) : "
    "cliquez sur « Nouvelle conversation » et reposez votre question."
)
INTERNAL_ERROR = "Désolé, une erreur interne est survenue. Réessayez dans un instant."
FEEDBACK_THANKS = "Merci pour votre avis !"
FEEDBACK_FAILED = "Votre avis n'a pas pu être enregistré."
ASK_API_DESCRIPTION = (
    "Answer a question from the French corpus (asked in French, or in English or Arabic: the sources stay French). Returns the JSON "
    "object of `coopqa ask --json`: id, question, abstained, message, mode, confidence, passages (rank, doc, section, start, end, "
    "text, score, highlight {start, end}; offsets index the document text), latency_ms, answer, language, language_calibrated "
    "and searched (what was actually searched). Parameters: question (text); k, passages to return, 1-100 (default: the "
    "server's setting); mode, one of hybrid, dense, bm25 (default: the server's setting); history, the conversation's earlier "
    f"questions, oldest first (at most {MAX_HISTORY_TURNS}), so the question may be a follow-up. Invalid input raises an error "
    "whose message says what to fix."
)
#: The footer's Gradio strings follow the browser's language; the page is French whatever the browser says.
FRENCH_FOOTER = """() => {
  const label = 'Utiliser via l\u2019API';
  const french = () => {
    for (const button of document.querySelectorAll('footer .show-api')) {
      const text = [...button.childNodes].find((node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
      if (text && text.textContent !== label) text.textContent = label;
    }
  };
  french();
  new MutationObserver(french).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""
#: Answers are long: show the start of the newest exchange rather than the end of its last source.
SCROLL_TO_LATEST = """() => requestAnimationFrame(() => {
  const log = document.querySelector('#coopqa-chat [role=log]');
  const rows = log ? log.querySelectorAll('.user-row') : [];
  const row = rows[rows.length - 1];
  if (row) log.scrollTop += row.getBoundingClientRect().top - log.getBoundingClientRect().top - 48;  // below the label
})"""


@dataclass(frozen=True)
class Turn:
    """One exchange; ``record`` is the answer's JSON (``None`` when the reply is a notice)."""

    question: str
    reply: str
    record: dict[str, Any] | None


class FeedbackLog:
    """Appends 👍/👎 ratings to one JSONL file chosen at start-up (never from the UI)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def check(self) -> None:
        """Fail at start-up, not at the first rating, when the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8"):
                pass
        except OSError as error:
            raise ConfigError(f"feedback file {self.path} cannot be written ({error.strerror})", "pass --feedback PATH") from None

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)


def explain(error: CoopqaError, question: str, max_chars: int, examples: tuple[str, ...] = ()) -> str:
    """A polite French message for an error the user caused (the errors themselves speak English); ``examples``: the corpus's."""
    if isinstance(error, InvalidHistoryError):
        return BAD_HISTORY.format(turns=MAX_HISTORY_TURNS)
    if isinstance(error, InvalidQuestionError):
        if error.reason in ("empty", "not_text"):
            return EMPTY_QUESTION.format(example=examples[0]) if examples else EMPTY_QUESTION_NO_EXAMPLE
        if error.reason == "bad_characters":
            return BAD_CHARACTERS
        if error.reason == "too_long":
            return TOO_LONG.format(length=len(" ".join(question.split())), limit=max_chars)
        return NO_WORDS
    if isinstance(error, ConfigError):
        return BAD_SETTINGS
    return INTERNAL_ERROR


def to_messages(turns: list[Turn]) -> list[dict[str, str]]:
    """The chat as Gradio messages: each turn is one user and one assistant message."""
    messages = []
    for turn in turns:
        messages += [{"role": "user", "content": render_question(turn.question)}, {"role": "assistant", "content": turn.reply}]
    return messages


def conversation_history(turns: list[Turn]) -> list[str]:
    """The questions the chat answered so far, oldest first: what a follow-up is resolved against.

    Notices (an empty question, an error) are not part of the conversation.
    """
    return [turn.question for turn in turns if turn.record is not None][-MAX_HISTORY_TURNS:]


def _whole_number(value: object) -> Any:
    """Sliders and JSON clients send 3.0 for 3; anything else is left for the retriever to refuse."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ChatHandlers:
    """The chat's event handlers around one shared :class:`~coopqa.pipeline.Assistant` and feedback file."""

    def __init__(self, retriever: Assistant, feedback: FeedbackLog, examples: tuple[str, ...] = ()) -> None:
        self.retriever = retriever
        self.feedback_log = feedback
        self.examples = examples

    def current(self) -> Assistant:
        """The retriever over the index version ``CURRENT`` names now.

        A ``coopqa index`` run while the app serves switches ``CURRENT``; the
        next request picks the new version up (one ``stat`` when nothing
        changed), and a request in flight keeps the version it started with.
        """
        retriever = self.retriever = self.retriever.refreshed()
        return retriever

    def answer(self, question: str, k: float | None, mode: str | None, history: list[str] | None = None) -> Answer:
        return self.current().ask(question, _whole_number(k), mode, history)

    def respond(self, question: str | None, k: float, mode: str, turns: list[Turn]) -> tuple[list[dict[str, str]], str, list[Turn]]:
        """Chat handler: answer (or explain why not), the session's earlier questions as the history, and clear the input box."""
        question = question if isinstance(question, str) else ""
        retriever = self.retriever
        try:
            retriever = self.current()
            answer = retriever.ask(question, _whole_number(k), mode, conversation_history(turns))
            turn = Turn(question, render_answer(answer, retriever.data.documents), answer_to_json(answer))
        except CoopqaError as error:
            turn = Turn(question, render_notice(explain(error, question, retriever.settings.max_question_chars, self.examples)), None)
        except Exception:  # the promise is: a message in the chat, never a stack trace
            log.exception("question failed: %r", question[:200])
            turn = Turn(question, render_notice(INTERNAL_ERROR), None)
        turns = [*turns, turn][-MAX_TURNS:]
        return to_messages(turns), "", turns

    def rate(self, turns: list[Turn], data: gr.LikeData) -> None:
        """👍/👎 handler: log the rated answer (question, passages) with a timestamp."""
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        rating = {True: "up", False: "down"}.get(data.liked) if isinstance(data.liked, bool) else None
        if rating is None or not isinstance(index, int) or index % 2 == 0 or not 0 <= index // 2 < len(turns):
            return
        record = turns[index // 2].record
        if record is None:
            return
        try:
            self.feedback_log.append({"timestamp": datetime.now(UTC).isoformat(timespec="seconds"), "rating": rating, **record})
        except OSError:
            log.exception("cannot write feedback to %s", self.feedback_log.path)
            gr.Warning(FEEDBACK_FAILED)
            return
        gr.Info(FEEDBACK_THANKS, duration=3, title="coopqa")

    def ask_api(self, question: str, k: int | None = None, mode: str | None = None, history: list[str] | None = None) -> dict[str, Any]:
        """The ``/ask`` endpoint (see :data:`ASK_API_DESCRIPTION`): same JSON as ``coopqa ask --json``, errors as one line."""
        try:
            return answer_to_json(self.answer(question, k, mode, history))
        except CoopqaError as error:
            raise gr.Error(error.one_line(), print_exception=False) from None


def _intro(retriever: Assistant, texts: ChatTexts) -> str:
    counts = retriever.data.manifest["counts"]
    return f"# {texts.title}\n{texts.about} *Corpus : {counts['documents']} document(s), {counts['passages']} passages.*"


def build_app(retriever: Assistant, feedback: FeedbackLog, concurrency: int = 1) -> gr.Blocks:
    """The Blocks app; ``concurrency`` is how many questions (chat and API together) run at once."""
    settings = retriever.settings
    texts = load_chat_texts(settings.corpus_dir)  # the corpus's own (examples.toml); no examples: no examples block
    example_questions = texts.questions
    assistant = ChatHandlers(retriever, feedback, example_questions)
    with gr.Blocks(title=f"coopqa — {texts.title}", analytics_enabled=False) as demo:
        gr.Markdown(_intro(retriever, texts), elem_id="coopqa-intro")
        turns = gr.State([])
        chatbot = gr.Chatbot(
            label="Conversation",
            elem_id="coopqa-chat",
            height=560,
            placeholder="Posez une question ci-dessous ou cliquez sur un exemple." if example_questions else "Posez une question ci-dessous.",
            latex_delimiters=[],
            autoscroll=False,
            sanitize_html=True,
            buttons=[],
        )
        with gr.Row():
            question = gr.Textbox(
                placeholder=f"Votre question, par exemple : {example_questions[0]}" if example_questions else "Votre question",
                show_label=False,
                elem_id="coopqa-question",
                scale=8,
                autofocus=True,
            )
            send = gr.Button("Envoyer", variant="primary", elem_id="coopqa-send", scale=1)
        new_conversation = gr.Button("Nouvelle conversation", variant="secondary", size="sm", elem_id="coopqa-new")
        examples = gr.Examples([[e] for e in example_questions], inputs=[question], label="Exemples de questions") if example_questions else None
        with gr.Accordion("Réglages", open=False), gr.Row():
            k = gr.Slider(1, max(UI_MAX_K, settings.top_k), value=settings.top_k, step=1, precision=0, label="Nombre de passages (k)", elem_id="coopqa-k")
            mode = gr.Radio(MODE_CHOICES, value=settings.mode, label="Mode de recherche", elem_id="coopqa-mode")

        def ask_on(trigger: Callable[..., Any]) -> None:
            trigger(assistant.respond, [question, k, mode, turns], [chatbot, question, turns], api_visibility="private", concurrency_id="retriever").then(
                None, js=SCROLL_TO_LATEST
            )

        for trigger in (question.submit, send.click, *([examples.load_input_event.then] if examples is not None else [])):
            ask_on(trigger)
        chatbot.like(assistant.rate, inputs=[turns], api_visibility="private", concurrency_id="feedback")
        chatbot.clear(lambda: [], outputs=[turns], api_visibility="private", queue=False)
        new_conversation.click(lambda: ([], [], ""), outputs=[chatbot, turns, question], api_visibility="private", queue=False)
        demo.load(None, js=FRENCH_FOOTER)
        gr.api(assistant.ask_api, api_name="ask", api_description=ASK_API_DESCRIPTION, concurrency_id="retriever")
    demo.queue(default_concurrency_limit=concurrency, max_size=QUEUE_SIZE)
    return demo


def serve(demo: gr.Blocks, host: str, port: int, block: bool = True) -> None:
    """Start the server; nothing outside Gradio's own assets is ever served (no ``allowed_paths``)."""
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        theme=gr.themes.Soft(font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]),
        css=CSS,
        footer_links=["api"],
        run_history=False,
        enable_monitoring=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        max_file_size="1kb",
        show_error=False,
    )
