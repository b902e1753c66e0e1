"""The default query path runs without PyTorch: ONNX Runtime answers, sentence-transformers is never imported.

A fresh ``coopqa`` process that answers questions (once, in batch, evaluating, or building the chat
app) lists the modules it loaded; none may be PyTorch, sentence-transformers or transformers. The
model and its export already exist (the session fixtures made them), as after set-up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coopqa.config import Settings
from coopqa.model.embedder import Embedder, missing_int8_instructions
from coopqa.pipeline import Assistant
from tests.conftest import QA_FILE

HEAVY = ("torch", "sentence_transformers", "transformers")

#: Run in a subprocess: do what the given front end does, then print the heavy modules it loaded.
PROBE = """
import json, sys
from coopqa.cli import main
what = sys.argv[1]
if what == "app":
    from coopqa.config import load_settings
    from coopqa.pipeline import Assistant
    from coopqa.ui import FeedbackLog, build_app
    retriever = Assistant.open(load_settings(), progress=False)
    build_app(retriever, FeedbackLog(__import__("pathlib").Path(sys.argv[2])))
    print(json.dumps(retriever.ask("Qui finance le projet AMEM ?").abstained), file=sys.stderr)
else:
    code = main(sys.argv[2:])
    assert code == 0, code
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"torch", "sentence_transformers", "transformers"})
print("HEAVY=" + json.dumps(heavy))
"""


def run_probe(cli_env: dict[str, str], *args: str, reader: str = "off") -> tuple[list[str], str]:
    env = {**cli_env, "COOPQA_READER": reader}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("HEAVY="))
    return json.loads(line.removeprefix("HEAVY=")), done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["off", "on"])
def test_ask_loads_no_pytorch(retriever: Assistant, cli_env: dict[str, str], reader: str) -> None:
    heavy, out = run_probe(cli_env, "ask", "ask", "Quel est le budget du projet AMEM ?", "--json", reader=reader)
    assert heavy == []
    answer = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert not answer["abstained"] and "2.400.000" in answer["passages"][0]["text"]
    if reader == "on":
        assert answer["answer"] is not None


@pytest.mark.slow
def test_a_question_asking_for_a_person_loads_no_pytorch(retriever: Assistant, cli_env: dict[str, str]) -> None:
    """Such a question loads spaCy's entity recogniser, whose backend would import PyTorch if let."""
    heavy, out = run_probe(cli_env, "ask", "ask", "Qui est le chef de mission de l'OIM à Rabat ?", "--json", reader="on")
    assert heavy == []
    assert json.loads(next(line for line in out.splitlines() if line.startswith("{")))["abstained"]


@pytest.mark.slow
def test_batch_eval_and_app_load_no_pytorch(retriever: Assistant, cli_env: dict[str, str], tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text('{"question": "Qui finance le projet AMEM ?"}\n{"question": "Où se trouve Rabat ?"}\n', encoding="utf-8")
    assert run_probe(cli_env, "ask", "ask", "--batch", str(batch), "--json")[0] == []
    assert run_probe(cli_env, "eval", "eval", str(QA_FILE), "--modes", "hybrid", "--limit", "5", "--quiet")[0] == []
    assert run_probe(cli_env, "app", str(tmp_path / "feedback.jsonl"))[0] == []


def test_default_backend_is_onnx_with_the_fp32_vectors(settings: Settings, embedder: Embedder) -> None:
    """The default encoder is the fp32 ONNX body graph; its vectors are the fp32 model's (checked at export to cosine 0.9999)."""
    assert settings.backend == "onnx"
    assert embedder.model_id.endswith("+onnx")
    assert "torch" not in type(embedder.model).__module__
    vectors = embedder.encode_queries(["Qui finance le projet AMEM ?", "Quand le FMMD est-il né ?"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.99


def test_int8_falls_back_where_the_cpu_lacks_avx2() -> None:
    assert missing_int8_instructions("flags : fpu sse sse2 ssse3 sse4_1 sse4_2 avx") == "AVX2"
    assert missing_int8_instructions("flags : fpu sse sse2 avx avx2 fma avx512_vnni") is None
