"""coopqa against the alternative a user would otherwise pick, measured side by side in one run.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/vs_langchain.py [--quick] [--out speed.json] [--backend torch]
    (LangChain: .venv/bin/pip install -c <pins of the installed packages> -r benchmarks/requirements-langchain.txt)

The alternative: LangChain's FAISS vector store (``FAISS.from_documents``, ``save_local``,
``load_local``, ``similarity_search``) with a sentence-transformers embedding of the same converted
multilingual-e5-small folder (E5 ``passage: `` / ``query: `` prompts, normalised vectors) over
coopqa's own chunks. Everything of ``build_speed.py`` and ``ask_speed.py`` for both, alternating
process by process, then retrieval quality on the shipped QA set and on PIAF v1.0 (3,835 questions,
761 paragraphs) with coopqa's judges and metrics: LangChain dense top-10 next to coopqa hybrid and
dense. Prints the tables and every coopqa / LangChain ratio; ``--out`` keeps them as JSON with the
conditions (CPUs, load average, versions). ``--quick``: shipped corpus only, 40 questions.
"""

from __future__ import annotations

from _common import main, measure_builds, measure_cold, measure_quality, measure_warm

if __name__ == "__main__":
    main("coopqa vs LangChain FAISS + HuggingFaceEmbeddings", [measure_builds, measure_cold, measure_warm, measure_quality], __doc__.splitlines()[0], True)
