"""``ask`` latency, cold and warm, and peak memory, on the shipped corpus.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/ask_speed.py [--langchain] [--quick] [--out ask.json] [--backend torch]

Cold start: ``coopqa ask QUESTION --json`` as a user runs it, index already built and the page cache
warm (one unmeasured run first); process start → first answer on stdout, median of ``--cold-runs``,
and each run's peak RSS. Warm: one process answers every question of ``qa/coopqa-fr.jsonl`` one at a
time through ``Assistant.ask`` (hybrid, then dense), ``--rounds`` passes after 10 warm-up asks; p50,
p95, max and the process's peak RSS. ``--langchain`` adds ``FAISS.load_local`` + ``similarity_search``
over the same chunks and model, alternating with coopqa, with coopqa / LangChain ratios.
"""

from __future__ import annotations

from _common import main, measure_cold, measure_warm

if __name__ == "__main__":
    main("ask latency and memory", [measure_cold, measure_warm], __doc__.splitlines()[0])
