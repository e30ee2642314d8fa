"""The README's commands work: every `make <target>` it shows exists; CI runs its test command."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MAKEFILE = ROOT / "Makefile"
CI_RUN = ROOT / ".ci" / "run"
TEST_COMMAND = "make test"

FENCE = re.compile(r"^(?P<fence>```+|~~~+)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")"}
RULE = re.compile(r"^(?P<targets>[^\s#:=][^:=#]*?)[ \t]*::?(?!=)", re.M)


def fenced_blocks(markdown: str) -> list[str]:
    return [match["body"] for match in FENCE.finditer(markdown)]


def make_targets_in(text: str) -> list[str]:
    """Targets of every `make ...` command.

    They are the words after `make` that are not options or VAR=value.
    """
    targets = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True  # keeps book/x.ipynb and -j2 whole; # starts a comment
        words = list(lexer)
        for i, word in enumerate(words):
            if word != "make" or (
                i > 0 and words[i - 1] not in SHELL_OPERATORS and "=" not in words[i - 1]
            ):
                continue
            for arg in words[i + 1 :]:
                if arg in SHELL_OPERATORS:
                    break
                if not arg.startswith("-") and "=" not in arg:
                    targets.append(arg)
    return targets


def makefile_targets(makefile: str) -> set[str]:
    """Explicit targets of the Makefile's rules (`target: prerequisites`).

    Variables are not expanded.
    """
    makefile = re.sub(r"\\\n", " ", makefile)
    return {
        target
        for match in RULE.finditer(makefile)
        for target in match["targets"].split()
        if not target.startswith((".", "$"))  # .PHONY and the like, $(STAMP): not commands
    }


def readme_commands(readme: str) -> list[str]:
    return [target for block in fenced_blocks(readme) for target in make_targets_in(block)]


# ---------------------------------------------------------------- the helpers themselves


def test_helpers_parse_a_sample_readme_and_makefile() -> None:
    readme = (
        "Intro `make inline` is not a command block.\n\n"
        "```\nmake book     # build the book\nmake test\n```\n\n"
        '~~~bash\nBOOK_DEVICE=cuda make -j2 seeds NOTEBOOK=book/x.ipynb SEEDS="0 1"\n~~~\n'
        "```\n# make commented\ncd x && make lab  # and a comment: make clean\n"
        "echo make nothing\n```\n"
    )
    assert readme_commands(readme) == ["book", "test", "seeds", "lab"]
    makefile = (
        "VENV := .venv\nPYTHON ?= $(shell command -v python3)\n.PHONY: book test\n"
        "book: $(STAMP)\n\techo a: b\ntest lab: $(STAMP)\n"
    )
    assert makefile_targets(makefile) >= {"book", "test", "lab"}
    assert not makefile_targets(makefile) & {"VENV", "PYTHON", "echo", "a"}


# ---------------------------------------------------------------- the repository


def test_readme_gives_the_test_command() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert "test" in commands, (
        f"README.md shows no `{TEST_COMMAND}` in a fenced code block "
        f"(make targets found: {commands})"
    )


def test_every_make_target_in_the_readme_exists() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    targets = makefile_targets(MAKEFILE.read_text(encoding="utf-8"))
    missing = sorted(set(commands) - targets)
    assert not missing, (
        f"README.md runs `make {missing[0]}`, but the Makefile has no such target "
        f"(it has {sorted(targets)})"
    )


def test_ci_runs_the_readme_test_command() -> None:
    script = CI_RUN.read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash") or script.startswith("#!/bin/bash")
    assert os.access(CI_RUN, os.X_OK), ".ci/run is not executable"
    assert re.search(r"^set -euo pipefail$", script, re.M), ".ci/run must `set -euo pipefail`"
    assert "test" in make_targets_in(script), (
        f".ci/run does not run the README's test command `{TEST_COMMAND}`"
    )


def test_colab_links_open_the_readers_copies() -> None:
    """The README's Colab links open each chapter's reader's copy, under _config.yml's repo."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]["url"].split("://", 1)[1].split("/", 1)[1].strip("/")
    colab_url = config["launch_buttons"]["colab_url"]
    branch = config["repository"]["branch"]
    prefix = f"{colab_url}/github/{repository}/blob/{branch}/"
    links = re.findall(
        r"\((https://colab\.research\.google\.com/[^)\s]+)\)", README.read_text(encoding="utf-8")
    )
    chapters = sorted(path.name for path in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(link.rsplit("/", 1)[1] for link in links) == chapters, links
    for link in links:
        assert link.startswith(prefix + "notebooks/"), (
            f"{link} does not start with {prefix}notebooks/"
        )
