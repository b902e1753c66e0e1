"""Write a reader delta from one full training checkpoint: early stopping at the calibration check that read best.

    HF_HUB_OFFLINE=1 .venv/bin/python training/checkpoint_delta.py /work/checkpoints/r5/step-1200.pt \\
        training/runs/r5/reader-delta-step-1200.safetensors

``train_reader.py`` writes its delta at the last step and keeps only the last two full checkpoints; a run's
calibration checks (``log.jsonl``) may read best earlier, on a checkpoint kept aside. The delta written here is the
one the end of a run writes: the trainable tensors in fp16, with the layers they belong to in its metadata, read
from the tensors' names (training trains the encoder from its lowest unfrozen layer to its top one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from safetensors.torch import save_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("delta", type=Path)
    args = parser.parse_args()
    try:
        state = torch.load(args.checkpoint, weights_only=False)
        trainable = state["trainable"]
    except (OSError, KeyError, RuntimeError) as error:
        raise SystemExit(f"error: {args.checkpoint} is not a train_reader.py checkpoint ({type(error).__name__})") from None
    layers = sorted({int(name.split(".")[name.split(".").index("layer") + 1]) for name in trainable if ".layer." in name})
    if not layers:
        raise SystemExit(f"error: {args.checkpoint} trains no encoder layer")
    delta = {name: tensor.detach().to(torch.float16).contiguous() for name, tensor in trainable.items()}
    metadata = {"frozen_layers": str(layers[0]), "layers": str(layers[-1] + 1), "step": str(state.get("step", ""))}
    save_file(delta, str(args.delta), metadata=metadata)
    print(f"{args.delta}: {len(delta)} tensors from step {state.get('step')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
