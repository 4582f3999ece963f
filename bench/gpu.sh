#!/usr/bin/env bash
# One call on a lent GPU machine: environment, parity on CUDA, then throughput.
# Everything lands in $OUT (the device tool brings that folder back).
#
#   bash bench/gpu.sh CARRY      # CARRY: frames/, model/ (yolov3-tiny), opencv_cpu.json,
#                                #        yolov3.cfg, wheels/ (PyYAML for a bare Python)
#
# Such machines have been seen with Python 3.12, CUDA PyTorch, an OpenCV 5
# without the Darknet importer, no ffmpeg and no internet: nothing here needs
# them. Each step has its own time limit so one hang cannot eat the lease.
# FRAMES (default 20000) and BATCHES (default 1,64,256) rehearse it small on CPU.
set -u
CARRY=${1:?usage: bench/gpu.sh CARRY}
OUT=${OUT:-/tmp/framehound-gpu}
FRAMES=${FRAMES:-20000}
BATCHES=${BATCHES:-1,64,256}
HALF=${HALF---half}
mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
step() {  # step NAME SECONDS COMMAND...: output to $OUT/NAME.txt, exit status recorded
    local name=$1 limit=$2; shift 2
    echo "== $name: $*" | tee -a "$OUT/steps.txt"
    timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
    echo "   exit $? after ${SECONDS}s" | tee -a "$OUT/steps.txt"
    tail -n 25 "$OUT/$name.txt"
}
python -c "import yaml" 2>/dev/null || python -m pip install -q --no-deps --target /tmp/fh-site "$CARRY"/wheels/*.whl \
    && export PYTHONPATH=$PYTHONPATH:/tmp/fh-site
step env 60 bash -c 'date -u; nvidia-smi; python -V; python -c "
import importlib
for m in (\"torch\", \"torchvision\", \"cv2\", \"numpy\", \"yaml\", \"pandas\", \"pyarrow\", \"tqdm\"):
    try:
        print(m, importlib.import_module(m).__version__)
    except Exception as exc:
        print(m, \"missing:\", exc)
import torch; print(\"cuda\", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else \"\")
"; nproc; free -g'
step parity_fp16 120 python bench/parity.py compare --frames-dir "$CARRY/frames" --model-dir "$CARRY/model" \
    --reference "$CARRY/opencv_cpu.json" --backend torch $HALF
step parity_fp32 120 python bench/parity.py compare --frames-dir "$CARRY/frames" --model-dir "$CARRY/model" \
    --reference "$CARRY/opencv_cpu.json" --backend torch
step tiny 300 python bench/detect.py --frames-dir "$CARRY/frames" --model-dir "$CARRY/model" --frames "$FRAMES" \
    --backend torch $HALF --batch-sizes "$BATCHES" --modes ceiling,stage,input --repeats 1 --no-record
step yolov3_weights 60 python bench/random_weights.py "$CARRY/yolov3.cfg" "$CARRY/model/model.names" /tmp/yolov3-random
step yolov3 150 python bench/detect.py --frames-dir "$CARRY/frames" --model-dir /tmp/yolov3-random \
    --frames "$(( FRAMES / 4 ))" --backend torch $HALF --batch-sizes "$BATCHES" --modes ceiling --repeats 1 --no-record
step after 20 nvidia-smi
