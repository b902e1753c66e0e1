"""Average the weights of several trained readers into one (a "model soup", Wortsman et al. 2022).

    HF_HUB_OFFLINE=1 .venv/bin/python training/soup_readers.py --out DIR DELTA [DELTA …]

Readers fine-tuned from the same e5 weights often sit in one basin of the loss, and
the average of their weights can read better than each of them at no cost at query
time. Each delta is laid over the converted e5 weights (a layer a run kept frozen
counts with e5's own values), the parameters are averaged, and the result is written
as a delta with the fewest frozen layers among the inputs. Then ``train_reader.py
--evaluate-only --init DIR/reader-delta.safetensors --out EMPTY_DIR`` scores it on the
PIAF calibration articles, like every run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from safetensors.torch import save_file

from coopqa.config import load_settings
from coopqa.model.embedder import resolve_model
from coopqa.model.reader_net import load_reader_net, trainable_parameter_names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("deltas", type=Path, nargs="+")
    args = parser.parse_args()
    folder, _model_id = resolve_model(load_settings())
    readers = [load_reader_net(Path(folder), delta) for delta in args.deltas]
    frozen = min(reader.frozen_layers for reader in readers)
    for reader in readers:
        reader.freeze_below(frozen)
    names = trainable_parameter_names(readers[0])
    soup = {}
    for name in names:
        values = [dict(reader.named_parameters())[name].detach() for reader in readers]
        soup[name] = (sum(values) / len(values)).to(torch.float16).contiguous()
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "reader-delta.safetensors"
    save_file(soup, str(target), metadata={"frozen_layers": str(frozen), "base": Path(folder).name, "soup": ",".join(str(d) for d in args.deltas)})
    print(f"{target}: {len(readers)} readers averaged, layers {frozen}-11 and the head")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
