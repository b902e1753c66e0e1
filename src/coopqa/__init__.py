"""coopqa: French retrieval question answering with cited passages.

The one API front ends use is :class:`coopqa.search.retriever.Retriever`
(``Retriever.open(settings).ask(question)``).
"""

__version__ = "0.1.0"
