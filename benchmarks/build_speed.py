"""Index build speed and peak memory: the shipped corpus and the PIAF v1.0 paragraphs.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/build_speed.py [--langchain] [--quick] [--out build.json] [--backend torch]

Each build is a fresh process into a fresh folder: ``coopqa index`` of ``corpus/`` (its real entry
point), and for PIAF ``build_index`` over the file's paragraphs as ``coopqa eval --corpus-from-file``
builds them. Prints, per corpus: process start → exit, the build itself (read → index saved), model
load, texts embedded (coopqa embeds passages and their sentences), embedding throughput, passages/s
for the passage texts alone, peak RSS (``wait4``) and index size. ``--langchain`` adds LangChain's
FAISS + HuggingFaceEmbeddings build of the same chunks side by side, with coopqa / LangChain ratios.
"""

from __future__ import annotations

from _common import main, measure_builds

if __name__ == "__main__":
    main("Index build speed", [measure_builds], __doc__.splitlines()[0])
