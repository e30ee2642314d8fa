"""Packaging: companion installs on Colab without changing Colab's packages.

Colab brings its own torch, TensorFlow, ipywidgets and the rest (tools/colab/pip-freeze-py313.txt,
Colab's published `pip freeze`). The setup cell installs companion there, so every range in
pyproject.toml must admit Colab's version; the exact pins of requirements.txt (what `make test`
runs) must lie in the same ranges. `make colab-check` tests the same thing for real, in a
Python 3.13 environment with Colab's versions; the pure helpers of that tool are tested here.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
# tools/ is not a package: load the tool by its path (registered, so its dataclasses resolve).
_spec = importlib.util.spec_from_file_location("colab_check", ROOT / "tools" / "colab_check.py")
colab_check = importlib.util.module_from_spec(_spec)
sys.modules["colab_check"] = colab_check
_spec.loader.exec_module(colab_check)

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COLAB = colab_check.colab_pins(colab_check.FREEZE.read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
DEPENDENCIES = [
    Requirement(line)
    for line in [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["tensorflow"]]
]


def pinned_requirements() -> list[Requirement]:
    """requirements.txt's lines as requirements (comments and blank lines left out)."""
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]


@pytest.mark.parametrize("requirement", DEPENDENCIES, ids=str)
def test_dependency_admits_colabs_version(requirement: Requirement) -> None:
    name = canonicalize_name(requirement.name)
    assert name in COLAB, (
        f"{requirement.name} is not in Colab's package list: the setup cell would add it"
    )
    colab = Version(COLAB[name])
    assert requirement.specifier.contains(colab, prereleases=True), (
        f"{requirement.name}: pyproject.toml asks for {requirement.specifier}, Colab has {colab}; "
        "installing companion on Colab would replace Colab's version"
    )


def _added_by_extras(requirement: Requirement) -> list[Requirement]:
    """What `requirement`'s extras add, by the metadata of the version installed here."""
    added = []
    for line in importlib.metadata.requires(requirement.name) or []:
        dependency = Requirement(line)
        marker = dependency.marker
        if marker is None or marker.evaluate({"extra": ""}):
            continue
        if any(marker.evaluate({"extra": extra}) for extra in requirement.extras):
            added.append(dependency)
    return added


def test_what_an_extra_adds_is_on_colab() -> None:
    # An extra's packages are installed too: one Colab lacks would be added beside Colab's own
    # (gymnasium[classic-control] asks for pygame-ce, which overwrites Colab's pygame).
    for requirement in [r for r in DEPENDENCIES if r.extras]:
        for dependency in _added_by_extras(requirement):
            assert canonicalize_name(dependency.name) in COLAB, (
                f"{requirement} brings {dependency}, which Colab does not have: "
                "installing companion on Colab would add it"
            )


RANGES = {canonicalize_name(r.name): r for r in DEPENDENCIES}


# The pins of companion's dependencies; the rest (jupyter-book, pytest, ...) are the book's tools.
COMPANION_PINS = [pin for pin in pinned_requirements() if canonicalize_name(pin.name) in RANGES]


@pytest.mark.parametrize("pin", COMPANION_PINS, ids=str)
def test_requirements_pin_lies_in_pyproject_range(pin: Requirement) -> None:
    (version,) = (Version(spec.version) for spec in pin.specifier)
    allowed = RANGES[canonicalize_name(pin.name)].specifier
    assert allowed.contains(version, prereleases=True), (
        f"requirements.txt pins {pin.name}=={version}, outside pyproject.toml's {allowed}"
    )


def test_every_dependency_is_pinned_in_requirements() -> None:
    pinned = {canonicalize_name(p.name) for p in pinned_requirements()}
    assert set(RANGES) <= pinned, f"requirements.txt pins none of {sorted(set(RANGES) - pinned)}"


def test_requirements_are_exact_pins() -> None:
    for pin in pinned_requirements():
        operators = [spec.operator for spec in pin.specifier]
        assert operators == ["=="], f"requirements.txt: {pin} is not an exact pin"


def test_build_needs_setuptools_77_for_the_spdx_license() -> None:
    # `license = "MIT"` (a PEP 639 SPDX string) is an error for setuptools before 77.
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    (setuptools,) = [r for r in requires if canonicalize_name(r.name) == "setuptools"]
    message = f"build-system requires {setuptools}: needs setuptools>=77"
    assert not setuptools.specifier.contains("76.1.0"), message
    assert setuptools.specifier.contains("77.0.0"), message


# ---------------------------------------------------------------------------------------------
# tools/colab_check.py's pure helpers

FREEZE_SAMPLE = """\
# Do not modify this file directly; it is generated by ...
absl-py==1.4.0
google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz
jupyter_kernel_gateway @ git+https://github.com/googlecolab/kernel_gateway@b134e99
nvidia-nccl-cu13==2.31.2
torch @ https://download.pytorch.org/whl/cpu/torch-2.11.0%2Bcpu-cp313-cp313-manylinux_2_28_x86_64.whl#sha256=00
Pillow==11.3.0
"""


def test_colab_pins_read_versions_urls_and_drop_git_and_file_lines() -> None:
    assert colab_check.colab_pins(FREEZE_SAMPLE) == {
        "absl-py": "1.4.0",
        "nvidia-nccl-cu13": "2.31.2",
        "torch": "2.11.0",
        "pillow": "11.3.0",
    }


def test_colab_pins_reject_a_line_they_do_not_understand() -> None:
    with pytest.raises(ValueError, match="unexpected line"):
        colab_check.colab_pins("numpy>=2\n")
    with pytest.raises(ValueError, match="torch"):
        colab_check.colab_pins("torch @ https://example.invalid/not-a-wheel\n")


def test_constraints_leave_out_nvidia_libraries() -> None:
    lines = colab_check.constraints(colab_check.colab_pins(FREEZE_SAMPLE))
    assert lines == ["absl-py==1.4.0", "pillow==11.3.0", "torch==2.11.0"]


def test_vendored_freeze_list_gives_colabs_key_versions() -> None:
    expected = {"torch": "2.11.0", "tensorflow": "2.20.0", "numpy": "2.1.3", "ipywidgets": "7.7.1"}
    assert {name: COLAB[name] for name in expected} == expected


def test_freeze_diff_and_its_verdict() -> None:
    before = "numpy==2.1.3\npandas==2.2.3\n"
    companion = "companion @ git+https://github.com/o/r@0123abc"
    assert colab_check.freeze_diff(before, before + companion + "\n") == ([], [companion])
    assert colab_check.freeze_problems([], [companion]) == []

    removed, added = colab_check.freeze_diff(before, f"numpy==2.4.6\npandas==2.2.3\n{companion}\n")
    assert (removed, added) == (["numpy==2.1.3"], [companion, "numpy==2.4.6"])
    problems = colab_check.freeze_problems(removed, added)
    assert any("lost or changed 'numpy==2.1.3'" in p for p in problems)
    assert any("gained 'numpy==2.4.6'" in p for p in problems)
    assert any("expected one added line" in p for p in colab_check.freeze_problems([], []))


def _widget_notebook(module: str, version: str, view_major: int = 2) -> dict:
    model = {"model_name": "FloatSliderModel", "model_module": module}
    model["model_module_version"] = version
    state = {"version_major": 2, "version_minor": 0, "state": {"abc": model}}
    view = {"model_id": "abc", "version_major": view_major, "version_minor": 0}
    output = {"output_type": "display_data", "data": {colab_check.WIDGET_VIEW: view}}
    return {
        "metadata": {"widgets": {colab_check.WIDGET_STATE: state}},
        "cells": [{"cell_type": "code", "outputs": [output]}],
    }


def test_widget_check_accepts_ipywidgets_7_models() -> None:
    notebook = _widget_notebook("@jupyter-widgets/controls", "1.5.0")
    assert colab_check.widget_problems(notebook) == []
    assert colab_check.widget_model_count(notebook) == 1
    assert colab_check.widget_problems({"cells": []}) == []


def test_widget_check_rejects_ipywidgets_8_models_and_other_view_versions() -> None:
    (problem,) = colab_check.widget_problems(_widget_notebook("@jupyter-widgets/controls", "2.0.0"))
    assert "FloatSliderModel" in problem and "2.0.0" in problem
    notebook = _widget_notebook("@jupyter-widgets/base", "1.2.0", view_major=3)
    (problem,) = colab_check.widget_problems(notebook)
    assert "version_major 3" in problem


def test_dry_run_report_may_install_companion_only() -> None:
    def item(name: str, version: str) -> dict:
        return {"metadata": {"name": name, "version": version}}

    assert colab_check.dry_run_problems({"install": [item("companion", "0.1.0")]}) == []
    report = {"install": [item("companion", "0.1.0"), item("numpy", "2.4.6")]}
    assert colab_check.dry_run_problems(report) == ["would install numpy==2.4.6"]


def test_repository_url_is_read_from_the_book_config() -> None:
    config = (
        "title: T\nrepository:\n  branch: main\n  url: https://github.com/o/r  # ours\n"
        "html:\n  x: 1\n"
    )
    assert colab_check.repository_url(config) == "https://github.com/o/r"
    with pytest.raises(ValueError, match="repository.url"):
        colab_check.repository_url("html:\n  url: https://elsewhere\n")
    real = colab_check.repository_url((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert real.startswith("https://github.com/")
