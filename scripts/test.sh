#!/usr/bin/env bash
# One command for a newcomer and for CI: install everything (Chromium for the
# browser tests included), then lint, type-check, test, and guard quality.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium (browser tests)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

echo "== installing coopqa and its test tools into .venv"
bash scripts/setup.sh test,eval,milvus

export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
echo "== ruff"
.venv/bin/ruff check .
echo "== mypy"
.venv/bin/mypy
echo "== import-linter: the stages depend one way (pyproject.toml, [tool.importlinter])"
.venv/bin/lint-imports
echo "== pytest"
.venv/bin/pytest -q --timeout=900 "$@"
echo "== quality guard: the shipped QA sets must keep the headline figures (README, docs/quality.md)"
# Floors one question or so under the measured figures (README, docs/), so a regression fails and float noise does not.
.venv/bin/coopqa eval qa/coopqa-fr.jsonl --modes hybrid --quiet \
  --min-hit1 0.92 --min-hit5 0.99 --min-highlight 0.80 --max-wrongly-abstained 0.03 --min-f1 0.58
# The shallow reader r6 abstains on 30 of the 64 (46.9 %; r5: 33) and shows all but 2 of the rest as unconfirmed
# « Réponse possible » (96.9 % abstained or not confident; r5: 93.8 %): docs/reader.md. The floor is one question under.
.venv/bin/coopqa eval qa/coopqa-fr-unanswerable-ontopic.jsonl --modes hybrid --quiet --min-abstained 0.45
for language in en ar; do
  .venv/bin/coopqa eval "qa/coopqa-$language.jsonl" --modes hybrid --quiet --min-hit1 0.85 --min-hit5 0.95 \
    --max-wrongly-abstained 0.05 --min-abstained 0.75
done
.venv/bin/coopqa eval qa/coopqa-conversations.jsonl --modes hybrid --quiet --min-hit1 0.85
