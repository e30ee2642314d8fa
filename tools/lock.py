"""requirements.lock: every package of the book's environment at an exact version.

    python -m tools.lock write     (make lock: after changing requirements.txt)
    python -m tools.lock check     (exit 1 when the lock does not follow from requirements.txt)

`requirements.txt` pins the packages the book names; what they pull in (about 200 packages)
would otherwise resolve afresh on every install, so a build next year could differ. The lock is
uv's resolution of requirements.txt for the book's Python (3.11) on Linux x86-64, the CI
machine. `make setup` installs it with uv (an installer written in Rust that installs from the same
registry as pip, several times faster); `pip install -r requirements.txt` keeps working for
readers without uv.

torch: on the CI machine the CPU build `torch==2.13.0+cpu` lies in pip's find-links folder and
uv resolves to it. The lock names `torch==2.13.0`, without the local label: with that folder, uv
and pip still install the CPU build (a local version sorts after its public one); on a machine
without it, the same line gives PyPI's build (with CUDA on a Linux GPU machine, whose CUDA
packages are then resolved at install time; they are not in the lock).

Regenerating keeps every version the lock already has (uv prefers the versions in the output
file), so `check` fails only when requirements.txt asks for something the lock does not hold.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
LOCK = ROOT / "requirements.lock"
PYTHON_VERSION = "3.11"
PYTHON_PLATFORM = "x86_64-manylinux_2_28"
# The local label of a build variant (torch's "+cpu"), dropped from the lock (see above).
LOCAL_LABEL = re.compile(r"^(torch==[^+\s]+)\+\w+", re.MULTILINE)


def uv() -> str:
    """The uv next to this Python (installed from requirements.txt), or on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv is not installed: `make setup` installs it into .venv")
    return found


def find_links() -> list[str]:
    """pip's find-links folders (where this machine keeps the torch CPU wheel), for uv too."""
    folders = os.environ.get("PIP_FIND_LINKS", "").split()
    return [arg for folder in folders if Path(folder).is_dir() for arg in ("--find-links", folder)]


def compile_lock(output: Path) -> None:
    """Resolve requirements.txt into `output`, keeping the versions `output` already pins."""
    if output.exists():
        # Without its label, the lock's torch line would make uv prefer PyPI's build over the
        # CPU build in find-links; requirements.txt pins torch's version anyway.
        text = output.read_text(encoding="utf-8")
        output.write_text(re.sub(r"^torch==.*\n", "", text, flags=re.MULTILINE), encoding="utf-8")
    subprocess.run(
        [
            uv(),
            "pip",
            "compile",
            str(REQUIREMENTS),
            "--quiet",
            "--python-version",
            PYTHON_VERSION,
            "--python-platform",
            PYTHON_PLATFORM,
            *find_links(),
            "--custom-compile-command",
            "make lock",
            "--output-file",
            str(output),
        ],
        cwd=ROOT,
        check=True,
    )
    output.write_text(LOCAL_LABEL.sub(r"\1", output.read_text(encoding="utf-8")), encoding="utf-8")


def pins(text: str) -> dict[str, str]:
    """{normalised name: version} of every `name==version` line."""
    found = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^\s;#]+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def stale() -> list[str]:
    """What is wrong with the lock: pins it contradicts, or a fresh resolution that differs."""
    problems = []
    locked = pins(LOCK.read_text(encoding="utf-8"))
    for name, version in pins(REQUIREMENTS.read_text(encoding="utf-8")).items():
        if locked.get(name) != version:
            problems.append(f"requirements.txt pins {name}=={version}, the lock {locked.get(name)}")
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / LOCK.name
        shutil.copy(LOCK, fresh)
        compile_lock(fresh)
        if fresh.read_text(encoding="utf-8") != LOCK.read_text(encoding="utf-8"):
            problems.append("uv resolves requirements.txt to something other than the lock")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    if args.command == "write":
        compile_lock(LOCK)
        print(f"wrote {LOCK.relative_to(ROOT)}: {len(pins(LOCK.read_text()))} packages")
        return 0
    problems = stale()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Run `make lock`.", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
