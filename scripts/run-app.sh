#!/usr/bin/env bash
# One command for a newcomer: install, convert the model, index the shipped
# corpus (first run only) and serve the chat on http://127.0.0.1:7860.
# Extra arguments go to app.py (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
.venv/bin/coopqa index
exec .venv/bin/python app.py "$@"
