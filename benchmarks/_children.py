"""The measured child processes of the speed benchmarks: one fresh process per measured item.

Run by ``_common.run_child`` as ``python benchmarks/_children.py TASK 'JSON arguments'``, so each
child's peak RSS (``wait4``) is its own. A child prints its figures as one last stdout line
``@@RESULT {json}``; everything else goes to stderr. Imports are inside the tasks, so a LangChain
child never imports coopqa unless it needs coopqa's chunks (build, quality), and the cold-start
child imports only what a LangChain user's script would. For the same reason this module imports
nothing but a few standard modules, and the other benchmarks' measured processes take their memory
readings from it too (:func:`memory_kib`, :func:`rss_mib`).

Tasks:

* ``coopqa-index``: ``coopqa index`` through its real entry point (``coopqa.cli.main``) for a corpus
  folder, or ``build_index(documents=SQuAD paragraphs)`` exactly as ``coopqa eval --corpus-from-file``
  does for a SQuAD file; ``Embedder.__init__``, ``Embedder.encode_passages`` and ``build_index`` are
  wrapped (not changed) to time model load, embedding and the build. Then the same passage texts alone
  are encoded once more, for a passages/s figure comparable with LangChain's.
* ``langchain-index``: coopqa's chunks (``coopqa.documents.chunking.chunk_document``) as LangChain documents,
  ``FAISS.from_documents`` with ``HuggingFaceEmbeddings`` of the same model folder, ``save_local``.
* ``langchain-ask``: process start → first ``similarity_search`` result (the cold-start counterpart
  of ``coopqa ask QUESTION --json``, which is run as is).
* ``coopqa-warm`` / ``langchain-warm``: one loaded index, every question one at a time.
* ``coopqa-quality`` / ``langchain-quality``: retrieval quality with coopqa's own judges and metrics.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

BEGAN = time.perf_counter()
RESULT_PREFIX = "@@RESULT "
E5_QUERY = "query: "
E5_PASSAGE = "passage: "
WARM_UP = 10


def emit(result: dict[str, Any]) -> None:
    print(RESULT_PREFIX + json.dumps(result, ensure_ascii=False), flush=True)


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """The ``Vm…`` lines of ``/proc/PID/status`` in KiB (``VmRSS`` now, ``VmHWM`` the peak so far); empty once the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {key: int(value.split()[0]) for key, _, value in (line.partition(":") for line in lines) if key.startswith("Vm")}


def rss_mib(field: str = "VmRSS") -> float:
    """This process's resident memory (``VmRSS``) or its peak so far (``VmHWM``: a build's own peak, before any extra measurement), MiB."""
    kib = memory_kib().get(field)
    return float("nan") if kib is None else kib / 1024


def say_built(what: str) -> None:
    """The first stdout line marks the end of the build: the parent times process start → this line."""
    print(f"built: {what}", flush=True)


# --------------------------------------------------------------------------- shared by the tasks


def coopqa_settings(args: dict[str, Any]) -> Any:
    """coopqa's settings from the child's environment (COOPQA_BACKEND included) and the task's folders."""
    from dataclasses import replace

    from coopqa.config import load_settings

    settings = load_settings()
    if args.get("corpus"):
        settings = replace(settings, corpus_dir=Path(args["corpus"]))
    return replace(settings, index_dir=Path(args["index"]))


def source_documents(args: dict[str, Any]) -> list[Any]:
    """The coopqa documents of a corpus folder or of a SQuAD file's paragraphs (as ``--corpus-from-file``)."""
    if args.get("squad"):
        from coopqa.evaluation.qa_formats import read_qa_file

        return read_qa_file(Path(args["squad"])).documents
    from coopqa.documents.reading import read_corpus

    return read_corpus(Path(args["corpus"]))


def coopqa_passages(documents: list[Any], chunk_size: int, chunk_overlap: int) -> list[Any]:
    from coopqa.documents.chunking import chunk_document

    return [passage for document in documents for passage in chunk_document(document, chunk_size, chunk_overlap)]


def langchain_embeddings(model: str, flavour: str) -> tuple[Any, str]:
    """LangChain's sentence-transformers embedding of ``model`` with the E5 prompts, normalised.

    ``langchain_huggingface.HuggingFaceEmbeddings`` (the current integration: ``prompt`` in
    ``encode_kwargs`` / ``query_encode_kwargs``) when it is installed, else langchain-community's
    ``HuggingFaceBgeEmbeddings`` (``embed_instruction`` / ``query_instruction``). Both replace line
    breaks by spaces and prepend the prompt to the text, so they feed the model the same tokens.
    """
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    if flavour in ("auto", "huggingface"):
        try:
            from langchain_huggingface import HuggingFaceEmbeddings
        except ImportError:
            if flavour == "huggingface":
                raise
        else:
            embeddings = HuggingFaceEmbeddings(
                model_name=model,
                model_kwargs={"device": "cpu"},
                encode_kwargs={"prompt": E5_PASSAGE, "normalize_embeddings": True},
                query_encode_kwargs={"prompt": E5_QUERY, "normalize_embeddings": True},
            )
            return embeddings, "langchain_huggingface.HuggingFaceEmbeddings"
    from langchain_community.embeddings import HuggingFaceBgeEmbeddings

    embeddings = HuggingFaceBgeEmbeddings(
        model_name=model,
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
        query_instruction=E5_QUERY,
        embed_instruction=E5_PASSAGE,
    )
    return embeddings, "langchain_community.embeddings.HuggingFaceBgeEmbeddings"


def langchain_faiss(args: dict[str, Any]) -> tuple[Any, Any, str, dict[str, float]]:
    """LangChain's ``FAISS`` class and its embedding of ``args["model"]``, with the seconds spent importing and loading them."""
    began = time.perf_counter()
    from langchain_community.vectorstores import FAISS

    imported = time.perf_counter()
    embeddings, kind = langchain_embeddings(args["model"], args["embeddings"])
    return FAISS, embeddings, kind, {"import_s": imported - began, "model_load_s": time.perf_counter() - imported}


def load_langchain_store(args: dict[str, Any]) -> tuple[Any, str, dict[str, float]]:
    faiss_class, embeddings, kind, timing = langchain_faiss(args)
    began = time.perf_counter()
    store = faiss_class.load_local(args["store"], embeddings, allow_dangerous_deserialization=True)
    return store, kind, {**timing, "index_load_s": time.perf_counter() - began}


def questions_of(path: str, limit: int | None) -> list[Any]:
    from coopqa.evaluation.qa_formats import read_qa_file

    items = read_qa_file(Path(path)).items
    return items[:limit] if limit else items


def timed_embedding(function: Any, timing: dict[str, Any]) -> Any:
    """``function`` (an unbound ``encode``/``embed`` method taking a list of texts), adding its seconds and texts to ``timing``."""

    def timed(self: Any, texts: list[str], *a: Any, **k: Any) -> Any:
        began = time.perf_counter()
        vectors = function(self, texts, *a, **k)
        timing["embed_s"] += time.perf_counter() - began
        timing["texts_embedded"] += len(texts)
        return vectors

    return timed


def ask_times_ms(ask: Any, questions: list[str], rounds: int) -> list[float]:
    """``ask(question)`` for the first WARM_UP questions (not timed), then every question ``rounds`` times, one at a time."""
    for question in questions[:WARM_UP]:
        ask(question)
    timings = []
    for _ in range(rounds):
        for question in questions:
            began = time.perf_counter()
            ask(question)
            timings.append((time.perf_counter() - began) * 1000)
    return timings


# --------------------------------------------------------------------------- builds


def task_coopqa_index(args: dict[str, Any]) -> None:
    import coopqa.index
    import coopqa.index.store
    import coopqa.model.embedder

    timing: dict[str, Any] = {"model_load_s": 0.0, "embed_s": 0.0, "texts_embedded": 0}
    captured: dict[str, Any] = {}
    original_init = coopqa.model.embedder.Embedder.__init__
    original_encode = coopqa.model.embedder.Embedder.encode_passages
    original_build = coopqa.index.store.build_index

    def timed_init(self: Any, *a: Any, **k: Any) -> None:
        began = time.perf_counter()
        original_init(self, *a, **k)
        timing["model_load_s"] += time.perf_counter() - began
        captured["embedder"] = self

    def kept_build(*a: Any, **k: Any) -> Any:
        captured["report"] = report = original_build(*a, **k)
        return report

    coopqa.model.embedder.Embedder.__init__ = timed_init  # type: ignore[method-assign]
    coopqa.model.embedder.Embedder.encode_passages = timed_embedding(original_encode, timing)  # type: ignore[method-assign]
    coopqa.index.store.build_index = kept_build
    coopqa.index.build_index = kept_build  # the stage's public name, which coopqa.cli imports

    settings = coopqa_settings(args)
    if args.get("squad"):
        # What `coopqa eval FILE --corpus-from-file` does: the file's paragraphs as documents (coopqa index has no such flag).
        documents = source_documents(args)
        embedder = coopqa.model.embedder.Embedder(settings, progress=False)
        coopqa.index.store.build_index(settings, embedder, progress=False, documents=documents)
        say_built(str(settings.index_dir))
        how = "build_index(documents=SQuAD paragraphs), as coopqa eval --corpus-from-file"
    else:
        from coopqa.cli import main

        # Its stdout line "Index construit : …" marks the end of the build for the parent.
        status = main(["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "index", "--quiet"])
        if status != 0:
            raise SystemExit(status)
        documents = source_documents(args)
        how = "coopqa index --quiet (coopqa.cli.main)"
    finished = time.perf_counter() - BEGAN
    build_peak = rss_mib("VmHWM")
    report = captured["report"]
    passages = coopqa_passages(documents, settings.chunk_size, settings.chunk_overlap)
    if len(passages) != report.passages:
        raise SystemExit(f"chunking disagrees with the build: {len(passages)} passages here, {report.passages} in the index")
    texts = [passage.embedding_text() for passage in passages]
    began = time.perf_counter()
    original_encode(captured["embedder"], texts)
    passages_only_s = time.perf_counter() - began
    emit(
        {
            "how": how,
            "backend": settings.backend,
            "documents": report.documents,
            "passages": report.passages,
            "sentences": report.sentences,
            "texts_embedded": timing["texts_embedded"],
            "model_load_s": timing["model_load_s"],
            "embed_s": timing["embed_s"],
            "build_s": report.seconds,
            "in_process_s": finished,
            "build_peak_rss_mib": build_peak,
            "passages_only_embed_s": passages_only_s,
        }
    )


def task_langchain_index(args: dict[str, Any]) -> None:
    faiss_class, embeddings, kind, setup = langchain_faiss(args)
    from langchain_core.documents import Document

    timing = {"embed_s": 0.0, "texts_embedded": 0}
    type(embeddings).embed_documents = timed_embedding(type(embeddings).embed_documents, timing)  # type: ignore[method-assign]
    sources = source_documents(args)  # read outside the build, as coopqa's build_index is handed its documents
    build_began = time.perf_counter()
    passages = coopqa_passages(sources, args["chunk_size"], args["chunk_overlap"])
    documents = [
        Document(page_content=passage.embedding_text(), metadata={"n": n, "doc": passage.doc_id, "start": passage.start, "end": passage.end})
        for n, passage in enumerate(passages)
    ]
    chunked = time.perf_counter()
    store = faiss_class.from_documents(documents, embeddings)
    store.save_local(args["store"])
    built = time.perf_counter()
    say_built(args["store"])
    emit(
        {
            "how": f"FAISS.from_documents({kind}) + save_local",
            "embeddings_class": kind,
            "faiss_index": type(store.index).__name__,
            "passages": len(documents),
            "texts_embedded": timing["texts_embedded"],
            **setup,
            "chunk_s": chunked - build_began,
            "embed_s": timing["embed_s"],
            "build_s": built - build_began,
            "in_process_s": built - BEGAN,
            "build_peak_rss_mib": rss_mib("VmHWM"),
            "passages_only_embed_s": timing["embed_s"],
        }
    )


# --------------------------------------------------------------------------- asking


def task_langchain_ask(args: dict[str, Any]) -> None:
    store, kind, timing = load_langchain_store(args)
    began = time.perf_counter()
    found = store.similarity_search(args["question"], k=args["k"])
    search_ms = (time.perf_counter() - began) * 1000
    print(json.dumps({"question": args["question"], "passages": [{"text": d.page_content, **d.metadata} for d in found]}, ensure_ascii=False), flush=True)
    emit({"embeddings_class": kind, **timing, "search_ms": search_ms, "passages": len(found)})


def task_coopqa_warm(args: dict[str, Any]) -> None:
    from coopqa.pipeline import Assistant

    settings = coopqa_settings(args)
    questions = [item.question for item in questions_of(args["questions"], args.get("limit"))]
    retriever = Assistant.open(settings, progress=False)
    latencies = {mode: ask_times_ms(lambda question, mode=mode: retriever.ask(question, mode=mode), questions, args["rounds"]) for mode in args["modes"]}
    emit({"backend": settings.backend, "k": settings.top_k, "latencies_ms": latencies})


def task_langchain_warm(args: dict[str, Any]) -> None:
    store, kind, _ = load_langchain_store(args)
    questions = [item.question for item in questions_of(args["questions"], args.get("limit"))]
    timings = ask_times_ms(lambda question: store.similarity_search(question, k=args["k"]), questions, args["rounds"])
    emit({"embeddings_class": kind, "k": args["k"], "latencies_ms": {"similarity_search": timings}})


# --------------------------------------------------------------------------- quality


def relevance_for(args: dict[str, Any], documents: list[Any]) -> Any:
    """``coopqa eval``'s rule: paragraph-level for a SQuAD file's own paragraphs, evidence-based for a corpus."""
    from coopqa.evaluation.metrics import Judge, ParagraphJudge

    return ParagraphJudge() if args.get("squad") else Judge({document.doc_id: document.text for document in documents})


def summary(report: Any) -> dict[str, Any]:
    metrics = report.metrics()
    keys = ("questions", "answerable", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "latency_p50_ms", "latency_p95_ms", "seconds")
    return {key: metrics[key] for key in keys}


def task_coopqa_quality(args: dict[str, Any]) -> None:
    from coopqa.evaluation.metrics import DEPTH, evaluate
    from coopqa.index.store import load_index
    from coopqa.model.embedder import Embedder
    from coopqa.pipeline import Assistant

    settings = coopqa_settings(args)
    items = questions_of(args["questions"], args.get("limit"))
    retriever = Assistant(load_index(settings.index_dir), Embedder(settings, progress=False), settings)
    documents = list(retriever.data.documents.values())
    reports = evaluate(retriever, items, args["modes"], k=DEPTH, relevance=relevance_for(args, documents))
    emit({"backend": settings.backend, "modes": {report.mode: summary(report) for report in reports}})


def task_langchain_quality(args: dict[str, Any]) -> None:
    from coopqa.evaluation.metrics import DEPTH, ModeReport, judge_answer
    from coopqa.pipeline import Answer, Hit

    store, kind, _ = load_langchain_store(args)
    documents = source_documents(args)
    passages = coopqa_passages(documents, args["chunk_size"], args["chunk_overlap"])
    relevance = relevance_for(args, documents)
    report = ModeReport("langchain-dense")
    for item in questions_of(args["questions"], args.get("limit")):
        began = time.perf_counter()
        found = store.similarity_search_with_score(item.question, k=DEPTH)
        latency_ms = (time.perf_counter() - began) * 1000
        hits = []
        for rank, (document, distance) in enumerate(found, start=1):
            passage = passages[document.metadata["n"]]
            if (passage.doc_id, passage.start) != (document.metadata["doc"], document.metadata["start"]):
                raise SystemExit(f"the LangChain store does not hold coopqa's chunks (passage {document.metadata['n']})")
            hits.append(Hit(rank, passage, -float(distance), passage.start, passage.end))  # LangChain has no highlight
        answer = Answer(item.question, report.mode, False, tuple(hits), latency_ms, 0.0)
        judged = judge_answer(item, answer, relevance)
        report.judged.append(judged)
        report.seconds += latency_ms / 1000
    emit({"embeddings_class": kind, "modes": {report.mode: summary(report)}})


TASKS = {
    "coopqa-index": task_coopqa_index,
    "langchain-index": task_langchain_index,
    "langchain-ask": task_langchain_ask,
    "coopqa-warm": task_coopqa_warm,
    "langchain-warm": task_langchain_warm,
    "coopqa-quality": task_coopqa_quality,
    "langchain-quality": task_langchain_quality,
}

if __name__ == "__main__":
    TASKS[sys.argv[1]](json.loads(sys.argv[2]))
