"""Settings precedence: flags > COOPQA_* environment > TOML file > defaults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from coopqa.config import BACKEND_DEFAULTS, Settings, is_backend_default, load_settings
from coopqa.errors import ConfigError


def test_defaults_apply_without_any_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.mode == "hybrid" and settings.top_k == 5


def test_flag_beats_environment_beats_toml(tmp_path: Path) -> None:
    toml = tmp_path / "coopqa.toml"
    toml.write_text('[coopqa]\ntop_k = 3\nchunk_size = 800\nmodel = "/models/a"\ncorpus_dir = "docs"\n', encoding="utf-8")
    environ = {"COOPQA_TOP_K": "7", "COOPQA_MODEL": "/models/b"}
    settings = load_settings({"top_k": 9}, config_file=toml, environ=environ)
    assert settings.top_k == 9  # flag
    assert settings.model == "/models/b"  # environment over file
    assert settings.chunk_size == 800  # file over default
    assert settings.corpus_dir == tmp_path / "docs"  # relative to the file


def test_config_file_found_in_working_directory_or_named_by_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "coopqa.toml").write_text("top_k = 4\n", encoding="utf-8")
    assert load_settings(environ={}).top_k == 4
    other = tmp_path / "other.toml"
    other.write_text("top_k = 6\n", encoding="utf-8")
    assert load_settings(environ={"COOPQA_CONFIG": str(other)}).top_k == 6


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"COOPQA_TOP_K": "beaucoup"}, "top_k expects int"),
        ({"COOPQA_TOP_K": "0"}, "k must be between 1 and 100"),
        ({"COOPQA_MODE": "semantic"}, "mode must be one of"),
        ({"COOPQA_CHUNK_SIZE": "100", "COOPQA_CHUNK_OVERLAP": "200"}, "chunk_overlap"),
        ({"COOPQA_COLOUR": "blue"}, "unknown setting"),
        ({"COOPQA_BACKEND": "onnx-fp16"}, "backend must be one of onnx, onnx-int8, torch, got 'onnx-fp16'"),
        ({"COOPQA_READER_WINDOW": "-2"}, "reader_window must be between -1"),
        ({"COOPQA_ANSWER_TYPING": "yes"}, "answer_typing must be on or off"),
        ({"COOPQA_FIGURE_DEPTH": "-1"}, "figure_depth must be between 0"),
        ({"COOPQA_ANSWER_ECHO": "drop"}, "answer_echo must be one of skip, abstain, keep"),
    ],
)
def test_bad_values_name_the_setting(source: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=source)


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "coopqa.toml"
    broken.write_text("top_k = = 3", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(config_file=broken, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_file=tmp_path / "absent.toml", environ={})


def test_backend_comes_from_every_source(tmp_path: Path) -> None:
    toml = tmp_path / "coopqa.toml"
    toml.write_text('[coopqa]\nbackend = "onnx-int8"\n', encoding="utf-8")
    assert load_settings(config_file=toml, environ={}).backend == "onnx-int8"
    assert load_settings(config_file=toml, environ={"COOPQA_BACKEND": "torch"}).backend == "torch"
    assert load_settings({"backend": "onnx-int8"}, environ={"COOPQA_BACKEND": "torch"}).backend == "onnx-int8"
    assert Settings().backend == "onnx"


@pytest.mark.parametrize("backend", sorted(BACKEND_DEFAULTS))
def test_abstain_threshold_and_batch_size_default_per_backend(backend: str) -> None:
    settings = load_settings(environ={"COOPQA_BACKEND": backend})
    assert settings.abstain_threshold == BACKEND_DEFAULTS[backend]["abstain_threshold"]
    assert settings.batch_size == BACKEND_DEFAULTS[backend]["batch_size"]
    assert is_backend_default(settings, "abstain_threshold") and is_backend_default(settings, "batch_size")


def test_calibrated_defaults_are_0_82_for_fp32_and_0_825_for_int8() -> None:
    assert (Settings().abstain_threshold, Settings().batch_size) == (0.82, 8)
    assert (Settings(backend="torch").abstain_threshold, Settings(backend="torch").batch_size) == (0.82, 32)
    assert (Settings(backend="onnx-int8").abstain_threshold, Settings(backend="onnx-int8").batch_size) == (0.825, 8)


def test_a_value_the_user_sets_always_wins_over_the_backend_default(tmp_path: Path) -> None:
    explicit = load_settings(environ={"COOPQA_BACKEND": "onnx-int8", "COOPQA_ABSTAIN_THRESHOLD": "0.82", "COOPQA_BATCH_SIZE": "32"})
    assert (explicit.abstain_threshold, explicit.batch_size) == (0.82, 32)
    assert not is_backend_default(explicit, "abstain_threshold")
    toml = tmp_path / "coopqa.toml"
    toml.write_text("abstain_threshold = 0.9\n", encoding="utf-8")
    assert load_settings(config_file=toml, environ={"COOPQA_BACKEND": "onnx-int8"}).abstain_threshold == 0.9
    # replace() keeps what the user set and re-resolves what came from the backend
    switched = replace(explicit, backend="torch")
    assert (switched.abstain_threshold, switched.batch_size) == (0.82, 32)
    partly = replace(load_settings(environ={"COOPQA_ABSTAIN_THRESHOLD": "0.7"}), backend="onnx-int8")
    assert (partly.abstain_threshold, partly.batch_size) == (0.7, 8)
    assert replace(Settings(), backend="onnx-int8").abstain_threshold == 0.825
