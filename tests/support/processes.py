"""Start and stop the processes tests run."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

# The installed command, as the README runs it.
KUBEDORA = str(Path(sys.executable).with_name("kubedora"))


def terminate(process: subprocess.Popen[bytes], timeout: float) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True when it stopped by itself."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False
    return True


def alive(process: subprocess.Popen[bytes], log: Path) -> bool:
    """True while the process runs; once it has exited, an error with the end
    of its log (for a poll() probe: a dead process is not waited on)."""
    if process.poll() is None:
        return True
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"process {process.pid} exited with {process.returncode}:\n{tail}")
