"""The pinned virtual environment a benchmark script runs in (scripts/mlperf-tiny-bench.py,
scripts/host-bench.py): made and filled on first use, remade when the pins change."""

import os
import subprocess
import sys
import venv


def ensure(path, pins):
    """Re-runs the calling script inside the venv at `path` with `pins` installed."""
    if os.path.realpath(sys.prefix) == os.path.realpath(path):
        return
    py = os.path.join(path, "bin", "python")
    stamp = os.path.join(path, ".pins")
    pinned = ""
    if os.path.exists(stamp):
        with open(stamp) as f:
            pinned = f.read()
    if pinned != "\n".join(pins):
        print(f"making {path} ({', '.join(pins)})", file=sys.stderr)
        venv.create(path, with_pip=True, clear=True)
        subprocess.run(
            [py, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins], check=True
        )
        with open(stamp, "w") as f:
            f.write("\n".join(pins))
    os.execv(py, [py, *sys.argv])
