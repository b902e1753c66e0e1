"""The reader as a PyTorch module: e5's encoder with a start/end span head, for training and for the one-time ONNX export.

Importing this module imports torch; the query path never does (it runs the exported
ONNX graph through :mod:`coopqa.model.reader_model`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import BertModel

#: The shipped weights hold only what training changed: the top encoder layers and the span head.
HEAD_PREFIX = "qa."


class ReaderNet(torch.nn.Module):
    """Token logits for "the answer starts here" and "ends here"; position 0 (``<s>``) is the no-answer."""

    def __init__(self, encoder: BertModel, frozen_layers: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.qa = torch.nn.Linear(encoder.config.hidden_size, 2)
        self.freeze_below(frozen_layers)

    def freeze_below(self, frozen_layers: int) -> None:
        """Train only the layers from ``frozen_layers`` up: a run may continue an earlier one with more layers unfrozen."""
        self.frozen_layers = frozen_layers
        for name, parameter in self.encoder.named_parameters():
            parameter.requires_grad = _layer_of(name) >= frozen_layers

    @property
    def layers(self) -> int:
        """Encoder layers the reader runs: all of e5's 12, or its bottom ones for a shallower, cheaper reader."""
        return int(self.encoder.config.num_hidden_layers)

    @classmethod
    def from_encoder_folder(cls, folder: Path, frozen_layers: int, layers: int = 0) -> ReaderNet:
        """e5's encoder, cut to its bottom ``layers`` layers when given (0: all), with a new span head."""
        encoder = BertModel.from_pretrained(str(folder), add_pooling_layer=False)
        if 0 < layers < encoder.config.num_hidden_layers:
            encoder.encoder.layer = encoder.encoder.layer[:layers]
            encoder.config.num_hidden_layers = layers
        return cls(encoder, frozen_layers)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.qa(hidden)
        return logits[..., 0], logits[..., 1]


def trainable_parameter_names(model: ReaderNet) -> list[str]:
    """The parameters training changes, in a stable order: what the delta file holds."""
    return [name for name, parameter in model.named_parameters() if parameter.requires_grad]


def _layer_of(name: str) -> int:
    """The encoder layer a parameter belongs to; embeddings count as layer -1 (always frozen when any layer is)."""
    parts = name.split(".")
    if "layer" in parts:
        return int(parts[parts.index("layer") + 1])
    return -1


def load_reader_net(model_folder: Path, delta_file: Path) -> ReaderNet:
    """e5's converted weights with the shipped delta laid over them: the trained reader."""
    from safetensors import safe_open

    with safe_open(str(delta_file), framework="pt") as handle:
        frozen_layers = int(handle.metadata().get("frozen_layers", "0"))
        layers = int(handle.metadata().get("layers", "0"))  # 0 (or absent): all of e5's layers
        delta = {name: handle.get_tensor(name).to(torch.float32) for name in handle.keys()}  # noqa: SIM118 (safe_open is no dict)
    model = ReaderNet.from_encoder_folder(model_folder, frozen_layers, layers)
    missing = set(trainable_parameter_names(model)) - set(delta)
    unexpected = set(delta) - set(dict(model.named_parameters()))
    if missing or unexpected:
        raise ValueError(f"the reader weights do not fit the model: {len(missing)} missing, {len(unexpected)} unknown tensors")
    model.load_state_dict(delta, strict=False)
    return model.eval()


def export_reader_graph(model: ReaderNet, target: Path, table_target: Path) -> None:
    """The reader as ONNX: ``inputs_embeds`` (rows of the token table, saved to ``table_target``) and ``attention_mask`` → ``start_logits``, ``end_logits``."""
    from coopqa.model.onnx_export import export_body

    class SpanHead(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qa = model.qa

        def forward(self, output: object) -> tuple[torch.Tensor, torch.Tensor]:
            logits = self.qa(output.last_hidden_state)  # type: ignore[attr-defined]
            return logits[..., 0], logits[..., 1]

    export_body(model.encoder, SpanHead(), ["start_logits", "end_logits"], target, table_target)
