"""Front end, ui: the Gradio chat and its ``/ask`` API, and the HTML rendering of answers.

``app.py`` starts it with :func:`build_app` and :func:`serve`.
"""

from coopqa.ui.app import FeedbackLog, build_app, serve

__all__ = ["FeedbackLog", "build_app", "serve"]
