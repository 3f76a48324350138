#!/usr/bin/env bash
# One command for a fresh machine: make .venv, install yolo-openvino with every extra, run the offline demo.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The CPU build of torch first: an unpinned resolver may otherwise pick a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[export,dev]"
if [ "${1:-}" != "--no-demo" ]; then
  .venv/bin/yolo-ov demo
fi
