#!/usr/bin/env bash
# Distributed training on PyTorch's engine (torchrun), as mmdet's dist_train.sh.
# Usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]
# CPU: the gloo backend is picked automatically when no GPU is visible, e.g.
#   bash tools/dist_train.sh configs/yolox-kpt/yolox-kpt_nano_8xb8-300e_synthetic-driving.py 2
set -euo pipefail
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
cd "$(dirname "$0")/.."
PYTHONPATH="$(pwd):${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    tools/train.py "$CONFIG" --launcher pytorch "${@:3}"
