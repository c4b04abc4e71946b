#!/usr/bin/env bash
# The GPU machine's side of the device check, from the repository root:
#
#   bash benchmarks/device/run.sh --budget-s 420 [more check.py options]
#
# Installs the wheels that travelled in .device-wheels/ (python benchmarks/device/wheels.py
# download, on a machine with the package index) into a folder put first on PYTHONPATH, without an
# index and without their dependencies (the image has the rest), then runs check.py into $OUT (the
# device tool's output folder; ./device_out elsewhere) and keeps its log there. vzero runs from this
# tree: the root on PYTHONPATH, and recipes/ linked as the vzero_recipes package pip would install.
set -euo pipefail
cd "$(dirname "$0")/../.."
wheels=(.device-wheels/*.whl)
if [ ! -e "${wheels[0]}" ]; then
    echo "error: no wheels in .device-wheels/: run 'python benchmarks/device/wheels.py download' where the package index is reachable, and carry .device-wheels" >&2
    exit 2
fi
site=${VZERO_DEVICE_SITE:-/tmp/vzero-device-site}
out=${OUT:-device_out}
mkdir -p "$site" "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "${wheels[@]}"
ln -sfn "$PWD/recipes" "$site/vzero_recipes"
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
python3 benchmarks/device/check.py --out "$out" "$@" 2>&1 | tee "$out/check.log"
