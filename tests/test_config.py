"""Settings precedence: flags > COOPQA_* environment > TOML file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopqa.config import Settings, load_settings
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
