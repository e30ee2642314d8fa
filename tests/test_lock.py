"""requirements.lock: the whole environment at exact versions, current with requirements.txt."""

from __future__ import annotations

import re
from importlib import metadata

from tools import lock


def test_every_pin_of_requirements_txt_is_in_the_lock_at_its_version() -> None:
    locked = lock.pins(lock.LOCK.read_text(encoding="utf-8"))
    required = lock.pins(lock.REQUIREMENTS.read_text(encoding="utf-8"))
    assert required, "requirements.txt pins nothing?"
    wrong = {name: (version, locked.get(name)) for name, version in required.items()}
    wrong = {name: pair for name, pair in wrong.items() if pair[0] != pair[1]}
    assert not wrong, f"(requirements.txt, lock) differ: {wrong}; run `make lock`"


def test_the_lock_is_what_uv_resolves_from_requirements_txt() -> None:
    problems = lock.stale()
    assert not problems, "\n".join(problems) + "\nRun `make lock`."


def test_the_environment_is_the_lock() -> None:
    """`make setup` installed exactly the locked versions (torch's build label aside)."""
    installed = {
        re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower(): dist.version.split("+")[0]
        for dist in metadata.distributions()
    }
    locked = lock.pins(lock.LOCK.read_text(encoding="utf-8"))
    wrong = {
        name: (v, installed.get(name)) for name, v in locked.items() if installed.get(name) != v
    }
    assert not wrong, f"(locked, installed) differ: {wrong}; run `make setup`"


def test_torch_is_locked_without_a_build_label() -> None:
    """The lock installs the CPU build where find-links has it and PyPI's (CUDA) build elsewhere."""
    text = lock.LOCK.read_text(encoding="utf-8")
    assert re.search(r"^torch==[\d.]+$", text, re.MULTILINE), "torch must be pinned as torch==X.Y.Z"
