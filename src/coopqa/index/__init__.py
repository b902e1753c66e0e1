"""Stage 3, index: the persisted, versioned, checksummed FAISS + French BM25 index, built and loaded atomically.

Other stages build, open and check an index through these names; files, manifest and versions stay internal.
"""

from coopqa.index.lexical import analyse, fold, fold_accents
from coopqa.index.store import IndexData, build_index, check_compatible, current_version, load_index, read_manifest, reload_index

__all__ = ["IndexData", "analyse", "build_index", "check_compatible", "current_version", "fold", "fold_accents", "load_index", "read_manifest", "reload_index"]
