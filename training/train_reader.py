"""Fine-tune coopqa's extractive reader from the converted multilingual-e5-small weights, on PIAF's train articles and (``--mix``) SQuAD, XQuAD, ARCD.

    HF_HUB_OFFLINE=1 .venv/bin/python training/train_reader.py --out training/runs/r1 [--epochs 2] [--resume]
    HF_HUB_OFFLINE=1 .venv/bin/python training/train_reader.py --out training/runs/r5 --mix piaf=1.5,squad1=0.35,... --check-every 150
    HF_HUB_OFFLINE=1 .venv/bin/python training/train_reader.py --out training/runs/r1 --evaluate-only

Never run at set-up or in CI: one epoch takes tens of minutes on the 2-core CPU.

What is trained, and why so little: the bottom ``--frozen-layers`` transformer layers and the
embeddings (96M of the 118M parameters, the 250k-token vocabulary) keep e5's weights, so a
step back-propagates through the top layers only and the shipped file holds just those layers
and the span head (``--trainable-layers`` × 1.8M parameters, fp16). Each training question is
paired with its own paragraph (the answer span as target) and, half the time, with another
paragraph of the same article (the ``<s>`` token as target): that second kind is what teaches
the no-answer score that coopqa abstains on. Articles are split by :func:`article_split`:
training sees only ``train``; ``--evaluate-only`` and the per-epoch check read ``calibration``;
``test`` is left for the reported figures (``coopqa eval``).

Checkpoints (``step-N.pt``: trainable weights, optimiser, data order) are written every
``--checkpoint-every`` steps, so an interrupted run resumes with ``--resume``. At the end the
trainable weights are written as ``reader-delta.safetensors`` (fp16) with a JSON card of the
run: seed, command, steps, the mix's sizes and skipped questions, calibration figures. A run
resumed from its checkpoint sees the same examples in the same order: the mix and its shuffles
are functions of the seed (``training/reader_mix.py``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from coopqa.config import load_settings
from coopqa.documents.chunking import split_sentences
from coopqa.evaluation.answers import best_over_golds
from coopqa.evaluation.splits import article_split
from coopqa.model import ReaderTokenizer
from coopqa.model.embedder import resolve_model
from coopqa.model.reader_net import ReaderNet, load_reader_net, trainable_parameter_names
from coopqa.reading.spans import batch_arrays, best_spans, make_windows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader_mix import DEFAULT_MIX, MixFileError, parse_mix, source_questions, weighted

PIAF = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "piaf" / "piaf-v1.0.json"


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    answer: tuple[int, int] | None  # character span in context, None for "not in this paragraph"


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"\w+", text.lower()) if len(word) > 3}


def hardest_negative(question: str, answer: str, others: list[str]) -> str | None:
    """The paragraph of the same article that shares most words with the question and does not hold the answer.

    A random paragraph of the article is often about something else; coopqa's near-misses are passages on
    the question's own subject without its fact, so this is the negative that teaches the no-answer score
    what coopqa must abstain on.
    """
    asked = _words(question)
    candidates = [other for other in others if answer.lower() not in other.lower()]
    if not candidates:
        return None
    return max(candidates, key=lambda other: len(asked & _words(other)))


def without_answer_sentence(context: str, start: int, end: int) -> str | None:
    """The paragraph with the sentences that hold ``context[start:end]`` cut out, or None when nothing would be left.

    What is left still talks about the question's subject, in the question's words, but no longer
    holds its fact: the near-miss coopqa meets on its own corpus (« Dans quelle ville suisse… » over
    a passage that names the country and the year, never the city), which PIAF, having no
    unanswerable questions, otherwise never shows the no-answer score.
    """
    sentences = split_sentences(context, 0, len(context))
    kept = [sentence for sentence in sentences if sentence.end <= start or sentence.start >= end]
    if not kept or len(kept) == len(sentences):
        return None
    return " ".join(context[sentence.start : sentence.end] for sentence in kept)


def read_examples(
    path: Path, split: str, negatives: float, seed: int, hard: bool = False, cut: float = 0.0
) -> tuple[list[Example], list[tuple[str, str, list[str]]]]:
    """Training pairs for the ``split`` articles, and (question, own paragraph, gold answers) for reading checks.

    ``negatives`` is the share of questions also paired with another paragraph of their article,
    ``cut`` the share also paired with their own paragraph minus the answer's sentences.
    """
    rng = random.Random(seed)
    examples: list[Example] = []
    checks: list[tuple[str, str, list[str]]] = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        if article_split(article["title"]) != split:
            continue
        contexts = [paragraph["context"] for paragraph in article["paragraphs"]]
        for number, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = int(answer["answer_start"])
                end = start + len(answer["text"])
                if context[start:end] != answer["text"]:
                    continue
                examples.append(Example(qa["question"], context, (start, end)))
                checks.append((qa["question"], context, [a["text"] for a in qa["answers"]]))
                others = [other for index, other in enumerate(contexts) if index != number]
                if others and rng.random() < negatives:
                    negative = hardest_negative(qa["question"], answer["text"], others) if hard else rng.choice(others)
                    if negative is not None:
                        examples.append(Example(qa["question"], negative, None))
                if cut and rng.random() < cut:
                    remainder = without_answer_sentence(context, start, end)
                    if remainder is not None and answer["text"].lower() not in remainder.lower():
                        examples.append(Example(qa["question"], remainder, None))
    return examples, checks


def targets(tokenizer: ReaderTokenizer, examples: list[Example], rng: random.Random) -> tuple[list[list[int]], list[int], list[int]]:
    """One window per example: the one holding the answer (or a random one), and its start/end token targets (0 = no answer)."""
    ids: list[list[int]] = []
    starts: list[int] = []
    ends: list[int] = []
    for example in examples:
        windows = make_windows(tokenizer, example.question, [example.context])
        chosen = None
        if example.answer is not None:
            answer_start, answer_end = example.answer
            holding = []
            for window in windows:
                inside = [i for i in range(len(window.ids)) if window.context[i]]
                if not inside or window.offsets[inside[0]][0] > answer_start or window.offsets[inside[-1]][1] < answer_end:
                    continue
                first = next(i for i in inside if window.offsets[i][1] > answer_start)
                last = max(i for i in inside if window.offsets[i][0] < answer_end)
                holding.append((window, first, last))
            if holding:
                chosen = rng.choice(holding)
        if chosen is None:
            window = rng.choice(windows)
            chosen = (window, 0, 0)
        window, first, last = chosen
        ids.append(window.ids)
        starts.append(first)
        ends.append(last)
    return ids, starts, ends


def loss_of(model: ReaderNet, ids: list[list[int]], starts: list[int], ends: list[int], pad_id: int) -> torch.Tensor:
    width = max(len(row) for row in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, tokens in enumerate(ids):
        input_ids[row, : len(tokens)] = torch.tensor(tokens)
        mask[row, : len(tokens)] = 1
    start_logits, end_logits = model(input_ids, mask)
    blocked = mask == 0
    start_logits = start_logits.masked_fill(blocked, -1e4)
    end_logits = end_logits.masked_fill(blocked, -1e4)
    loss_fn = torch.nn.CrossEntropyLoss()
    return (loss_fn(start_logits, torch.tensor(starts)) + loss_fn(end_logits, torch.tensor(ends))) / 2


@torch.no_grad()
def reading_scores(model: ReaderNet, tokenizer: ReaderTokenizer, checks: list[tuple[str, str, list[str]]], pad_id: int, batch: int = 32) -> dict[str, float]:
    """Reading EM / F1 on questions asked against their own paragraph, and the margins' spread."""
    model.eval()
    em = f1 = 0.0
    margins: list[float] = []
    answerable = [check for check in checks if check[2]]
    unanswerable_abstained = 0
    for first in range(0, len(checks), batch):
        part = checks[first : first + batch]
        windows = [
            replace(window, pair=pair) for pair, (question, context, _golds) in enumerate(part) for window in make_windows(tokenizer, question, [context])
        ]
        ids, mask = batch_arrays(windows, pad_id)
        start_logits, end_logits = model(torch.from_numpy(ids), torch.from_numpy(mask))
        spans = best_spans(windows, start_logits.numpy(), end_logits.numpy(), [context for _q, context, _g in part])
        for span, (_question, context, golds) in zip(spans, part):
            if not golds:  # an unanswerable question: right when the best span does not beat "no answer"
                unanswerable_abstained += span is None or span.margin < 0
                continue
            prediction = "" if span is None else context[span.start : span.end]
            exact, overlap = best_over_golds(prediction, golds)
            em += exact
            f1 += overlap
            if span is not None:
                margins.append(span.margin)
    model.train()
    count = max(len(answerable), 1)
    scores = {"em": em / count, "f1": f1 / count, "questions": float(len(answerable)), "margin_p10": float(np.percentile(margins, 10)) if margins else 0.0}
    if len(answerable) < len(checks):
        scores["noans_abstained"] = unanswerable_abstained / (len(checks) - len(answerable))
    return scores


def mix_examples(mix: dict[str, float], piaf: Path, seed: int, hard: bool, cut: float, negatives: float) -> tuple[list[Example], Counter[str], dict[str, int]]:
    """The training examples of every source of ``mix``, weighted, in one seeded order-independent list.

    Returns the examples, the questions skipped by reason, and how many examples each source gave.
    """
    rng = random.Random(seed)
    skipped: Counter[str] = Counter()
    examples: list[Example] = []
    sizes: dict[str, int] = {}
    for name, weight in mix.items():
        if name == "piaf":
            part, _checks = read_examples(piaf, "train", negatives, seed, hard=hard, cut=cut)
        else:
            part = [Example(question.question, question.context, question.answer) for question in source_questions(name, "train", skipped)]
        chosen = weighted(part, weight, rng)
        sizes[name] = len(chosen)
        examples.extend(chosen)
    return examples, skipped, sizes


def squad2_checks(count: int, seed: int) -> list[tuple[str, str, list[str]]]:
    """A seeded sample of SQuAD v2.0's calibration articles, answerable and not: the run's no-answer check."""
    skipped: Counter[str] = Counter()
    from reader_mix import DATASETS, squad_split

    questions = squad_split(DATASETS / "squad" / "squad-v2.0-dev.json", "calibration", skipped)
    chosen = random.Random(seed).sample(questions, min(count, len(questions)))
    return [(question.question, question.context, list(question.golds)) for question in chosen]


#: The part of a checkpoint small enough to commit (fp16 weights, step, data-order state): a later session on a fresh
#: machine resumes from it with the same data order, the optimiser's moments reset.
LIGHT_CHECKPOINT = "resume-delta.safetensors"


def write_light_checkpoint(path: Path, trainable: dict[str, torch.Tensor], step: int, rng_state: object, frozen_layers: int) -> None:
    weights = {name: tensor.to(torch.float16).contiguous() for name, tensor in trainable.items()}
    metadata = {"step": str(step), "rng": json.dumps(rng_state), "frozen_layers": str(frozen_layers)}
    save_file(weights, str(path.with_suffix(".tmp")), metadata=metadata)
    path.with_suffix(".tmp").replace(path)


def light_checkpoint_step(path: Path) -> int:
    """The step the light checkpoint holds (-1 without one): the later of it and the last full checkpoint wins."""
    if not path.exists():
        return -1
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return int(handle.metadata()["step"])


def read_light_checkpoint(path: Path, model: ReaderNet) -> tuple[int, object]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        weights = {name: handle.get_tensor(name).to(torch.float32) for name in handle.keys()}  # noqa: SIM118 (safe_open is no dict)
    if set(weights) != set(trainable_parameter_names(model)) or int(metadata["frozen_layers"]) != model.frozen_layers:
        held = metadata["frozen_layers"]
        raise SystemExit(f"error: {path} holds other layers than this run trains (frozen_layers {held}); resume with the same --frozen-layers")
    model.load_state_dict(weights, strict=False)
    version, internal, gauss = json.loads(metadata["rng"])
    return int(metadata["step"]), (version, tuple(internal), gauss)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=PIAF)
    parser.add_argument("--mix", default="piaf=1", help=f"sources and weights (training/reader_mix.py), e.g. {DEFAULT_MIX}")
    parser.add_argument("--check-every", type=int, default=0, help="also read the calibration checks every this many steps (0: once an epoch)")
    parser.add_argument("--noans-checks", type=int, default=0, help="SQuAD v2.0 calibration questions read by each check (answerable and not)")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--frozen-layers", type=int, default=6)
    parser.add_argument("--layers", type=int, default=0, help="keep only e5's bottom N layers (a shallower reader; 0: all 12); not with --init")
    parser.add_argument("--negatives", type=float, default=0.5, help="share of questions also paired with another paragraph of their article")
    parser.add_argument(
        "--hard-negatives", action="store_true", help="pair with the article's paragraph closest to the question (not holding the answer), not a random one"
    )
    parser.add_argument("--cut-negatives", type=float, default=0.0, help="share of questions also paired with their own paragraph minus the answer's sentences")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: the epochs decide)")
    parser.add_argument("--init", type=Path, help="start from this reader delta (a previous run's reader-delta.safetensors) instead of e5's weights")
    parser.add_argument("--resume", action="store_true", help="continue from the last step-N.pt, or else from the light checkpoint in --out")
    parser.add_argument(
        "--checkpoints", type=Path, help="where the full step-N.pt checkpoints go (default --out); outside the work tree, which a new session lays anew"
    )
    parser.add_argument("--evaluate-only", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    settings = load_settings()
    folder, _model_id = resolve_model(settings)
    tokenizer = ReaderTokenizer(Path(folder))
    pad_id = tokenizer.pad_id
    if args.init is not None and args.layers:
        parser.error("--layers trains a shallower reader from e5's weights; a --init reader keeps its own layers")
    if not 0 <= args.layers <= 12 or (args.layers and args.frozen_layers >= args.layers):
        parser.error(f"--layers must be 1 to 12 (0: all) and above --frozen-layers ({args.frozen_layers}), got {args.layers}")
    if args.init is not None:
        model = load_reader_net(Path(folder), args.init).train()
        if model.frozen_layers < args.frozen_layers:
            parser.error(f"--init {args.init} trained layers from {model.frozen_layers} up; freezing {args.frozen_layers} would drop what they learnt")
        model.freeze_below(args.frozen_layers)
    else:
        model = ReaderNet.from_encoder_folder(Path(folder), frozen_layers=args.frozen_layers, layers=args.layers)
    args.out.mkdir(parents=True, exist_ok=True)

    try:
        mix = parse_mix(args.mix)
        examples, skipped, sizes = mix_examples(mix, args.data, args.seed, args.hard_negatives, args.cut_negatives, args.negatives)
    except (ValueError, MixFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if skipped:
        print(f"skipped questions: {dict(skipped)}", file=sys.stderr)
    print(f"mix: {sizes}, {len(examples)} examples", file=sys.stderr)
    _unused, calibration = read_examples(args.data, "calibration", 0.0, args.seed)
    noans_checks = squad2_checks(args.noans_checks, args.seed) if args.noans_checks else []

    def checks() -> dict[str, object]:
        scores: dict[str, object] = dict(reading_scores(model, tokenizer, calibration, pad_id))
        if noans_checks:
            scores["squad2"] = reading_scores(model, tokenizer, noans_checks, pad_id)
        return scores

    names = trainable_parameter_names(model)
    parameters = dict(model.named_parameters())
    head = [parameters[name] for name in names if name.startswith("qa.")]
    body = [parameters[name] for name in names if not name.startswith("qa.")]
    optimiser = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": head, "lr": args.head_lr}], weight_decay=0.01)
    steps_per_epoch = (len(examples) + args.batch - 1) // args.batch
    total_steps = int(steps_per_epoch * args.epochs) if not args.max_steps else args.max_steps
    warmup = max(1, total_steps // 20)
    def rate(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)

    step = 0
    store = args.checkpoints or args.out
    store.mkdir(parents=True, exist_ok=True)
    checkpoints = sorted(store.glob("step-*.pt"), key=lambda path: int(path.stem.split("-")[1]))
    light = args.out / LIGHT_CHECKPOINT
    light_step = light_checkpoint_step(light)
    full_step = int(checkpoints[-1].stem.split("-")[1]) if checkpoints else -1
    if (args.resume or args.evaluate_only) and checkpoints and full_step >= light_step:
        state = torch.load(checkpoints[-1], weights_only=False)
        model.load_state_dict(state["trainable"], strict=False)
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        step = int(state["step"])
        rng.setstate(state["rng"])
        print(f"resumed from {checkpoints[-1]} at step {step}", file=sys.stderr)
    elif (args.resume or args.evaluate_only) and light_step >= 0:
        step, rng_state = read_light_checkpoint(light, model)
        rng.setstate(rng_state)
        for _ in range(step):  # the learning-rate schedule where it was; AdamW's moments start afresh
            schedule.step()
        print(f"resumed from {light} at step {step} (weights and data order; optimiser moments reset)", file=sys.stderr)
    if args.evaluate_only:
        print(json.dumps(checks()))
        return 0

    log = (args.out / "log.jsonl").open("a", encoding="utf-8")
    model.train()
    began = time.perf_counter()
    order: list[int] = []
    shuffled_epoch = -1
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)  # every epoch starts on a batch boundary, with its own shuffle
        position = index * args.batch
        if epoch != shuffled_epoch:
            order = list(range(len(examples)))
            random.Random(args.seed + epoch).shuffle(order)
            shuffled_epoch = epoch
        chosen = [examples[index] for index in order[position : position + args.batch]]
        ids, starts, ends = targets(tokenizer, chosen, rng)
        loss = loss_of(model, ids, starts, ends, pad_id)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(body + head, 1.0)
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        step += 1
        elapsed = time.perf_counter() - began
        log.write(json.dumps({"step": step, "loss": round(float(loss.detach()), 4), "seconds": round(elapsed, 1)}) + "\n")
        log.flush()
        if step % 10 == 0:
            print(f"step {step}/{total_steps} loss {float(loss):.3f} {elapsed / 60:.1f} min", file=sys.stderr)
        if step % args.checkpoint_every == 0 or step == total_steps:
            trainable = {name: parameters[name].detach().clone() for name in names}
            state = {"trainable": trainable, "optimiser": optimiser.state_dict(), "schedule": schedule.state_dict(), "step": step, "rng": rng.getstate()}
            torch.save(state, store / f"step-{step}.pt")
            for old in sorted(store.glob("step-*.pt"), key=lambda path: int(path.stem.split("-")[1]))[:-2]:
                old.unlink()
            write_light_checkpoint(light, trainable, step, rng.getstate(), args.frozen_layers)
        if step % steps_per_epoch == 0 or step == total_steps or (args.check_every and step % args.check_every == 0):
            scores = checks()
            log.write(json.dumps({"step": step, "calibration": scores}) + "\n")
            log.flush()
            print(f"step {step}: calibration {scores}", file=sys.stderr)

    delta = {name: parameters[name].detach().to(torch.float16).contiguous() for name in names}
    metadata = {"frozen_layers": str(args.frozen_layers), "layers": str(model.layers), "base": Path(folder).name}
    save_file(delta, str(args.out / "reader-delta.safetensors"), metadata=metadata)
    card = {
        "command": " ".join(sys.argv),
        "seed": args.seed,
        "steps": step,
        "examples": len(examples),
        "mix": sizes,
        "skipped": dict(skipped),
        "frozen_layers": args.frozen_layers,
        "layers": model.layers,
        "calibration": checks(),
        "minutes": round((time.perf_counter() - began) / 60, 1),
    }
    (args.out / "card.json").write_text(json.dumps(card, indent=2), encoding="utf-8")
    print(json.dumps(card))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
