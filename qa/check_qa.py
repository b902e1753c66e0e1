#!/usr/bin/env python3
"""Validate coopqa-fr.jsonl against the source document (stdlib only).

Usage: python3 check_qa.py [jsonl] [document]
Exit status 0 if every check passes, 1 otherwise. Warnings (evidence found
more than once in the document, long answers) do not fail the run.
"""
import collections
import json
import os
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
JSONL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "coopqa-fr.jsonl")
DOC = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/corpus/cooperation-multilaterale.txt"
DOC_NAME = "cooperation-multilaterale.txt"

# Top-level headings, in document order. The last one has no body text but
# still closes the previous section.
HEADINGS = [
    "Global Forum Migration et Développement",
    "Coopération avec l’Union Européenne",
    "Coopération avec le système des nations Unies au Maroc",
    "Coopération avec L’Organisation Internationale du Travail (l’OIT)",
    "Coopération avec L’Organisation Internationale pour les Migrations (OIM)",
    "Coopération avec l’Union Africaine",
    "Coopération avec les pays de la ligue arabe",
]
ANSWERABLE_KEYS = {"id", "question", "answer", "evidence", "doc", "section", "answerable"}
UNANSWERABLE_KEYS = {"id", "question", "answerable"}


def section_spans(text):
    """Map heading -> (start, end): body from after the heading line to the next heading line."""
    lines = text.split("\n")
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    found = []
    for h in HEADINGS:
        idx = [i for i, line in enumerate(lines) if line.strip() == h]
        if len(idx) != 1:
            raise SystemExit(f"heading {h!r} found {len(idx)} times as a line in document")
        found.append((idx[0], h))
    found.sort()
    spans = {}
    for k, (li, h) in enumerate(found):
        end = offsets[found[k + 1][0]] if k + 1 < len(found) else len(text)
        start = min(offsets[li] + len(lines[li]) + 1, end)
        spans[h] = (start, end)
    return spans


def occurrences(text, sub):
    out, i = [], text.find(sub)
    while i != -1:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def main():
    text = Path(DOC).read_text(encoding="utf-8")
    spans = section_spans(text)
    errors, warnings = [], []
    ids = set()
    per_section = collections.Counter()
    n_unans = 0
    evidence_seen = collections.Counter()
    questions_seen = collections.Counter()

    with open(JSONL, encoding="utf-8") as f:
        raw_lines = f.read().split("\n")
    if raw_lines and raw_lines[-1] == "":
        raw_lines.pop()

    for ln, raw in enumerate(raw_lines, 1):
        where = f"line {ln}"
        try:
            rec = json.loads(raw)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: invalid JSON ({e})")
            continue
        if not isinstance(rec, dict):
            errors.append(f"{where}: not a JSON object")
            continue
        rid = rec.get("id")
        where = f"line {ln} ({rid})"
        if not isinstance(rid, str) or not rid:
            errors.append(f"{where}: missing id")
        elif rid in ids:
            errors.append(f"{where}: duplicate id")
        else:
            ids.add(rid)
        q = rec.get("question")
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: empty question")
        else:
            questions_seen[q.strip().lower()] += 1

        ans_flag = rec.get("answerable")
        if ans_flag is True:
            if set(rec) != ANSWERABLE_KEYS:
                errors.append(f"{where}: keys {sorted(rec)} != {sorted(ANSWERABLE_KEYS)}")
            if not str(rid).startswith("q"):
                errors.append(f"{where}: answerable id should start with 'q'")
            ev, ans, sec = rec.get("evidence", ""), rec.get("answer", ""), rec.get("section")
            if rec.get("doc") != DOC_NAME:
                errors.append(f"{where}: doc is {rec.get('doc')!r}")
            if not ev or not ans:
                errors.append(f"{where}: empty evidence or answer")
                continue
            if ans not in ev:
                errors.append(f"{where}: answer not a substring of evidence")
            occ = occurrences(text, ev)
            if not occ:
                errors.append(f"{where}: evidence not found in document")
            if sec not in spans:
                errors.append(f"{where}: unknown section {sec!r}")
            elif occ:
                s, e = spans[sec]
                if not any(s <= o and o + len(ev) <= e for o in occ):
                    errors.append(f"{where}: evidence not inside section {sec!r}")
                else:
                    per_section[sec] += 1
            if len(occ) > 1:
                warnings.append(f"{where}: evidence occurs {len(occ)} times in document")
            if len(ans) > 160:
                warnings.append(f"{where}: long answer ({len(ans)} chars)")
            evidence_seen[ev] += 1
        elif ans_flag is False:
            n_unans += 1
            if set(rec) != UNANSWERABLE_KEYS:
                errors.append(f"{where}: keys {sorted(rec)} != {sorted(UNANSWERABLE_KEYS)}")
            if not str(rid).startswith("u"):
                errors.append(f"{where}: unanswerable id should start with 'u'")
        else:
            errors.append(f"{where}: 'answerable' must be true or false")

    for q, n in questions_seen.items():
        if n > 1:
            errors.append(f"duplicate question ({n}x): {q!r}")
    for ev, n in evidence_seen.items():
        if n > 1:
            warnings.append(f"evidence shared by {n} questions: {ev[:70]!r}")

    print("Answerable questions per section:")
    for h in HEADINGS:
        print(f"  {per_section[h]:4d}  {h}")
    print(f"  {sum(per_section.values()):4d}  TOTAL answerable (validated)")
    print(f"  {n_unans:4d}  unanswerable")
    for w in warnings:
        print("WARNING:", w)
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"FAILED: {len(errors)} error(s)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
