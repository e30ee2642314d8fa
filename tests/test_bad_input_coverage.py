"""Every public callable of `companion` is fed its bad inputs by one of the bad-input suites.

Each suite (tests/test_bad_input_*.py) names what it covers in `CALLABLES_COVERED`; a new public
function or method without bad-input tests fails here, and so does a name that no longer exists.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import test_bad_input_library
import test_bad_input_training

import companion

SUITES = (test_bad_input_library, test_bad_input_training)


def _modules() -> list[ModuleType]:
    """The package and its modules, except `companion.checks`: the checks themselves, whose
    bad inputs tests/test_checks.py feeds them."""
    return [companion] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(companion.__path__, prefix="companion.")
        if info.name != "companion.checks"
    ]


def public_callables() -> set[str]:
    """Qualified names of the public functions and classes defined in companion, and of the
    public methods the classes define themselves."""
    names = set()
    for module in _modules():
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value):
                names.add(f"{module.__name__}.{name}")
            elif inspect.isclass(value):
                names.add(f"{module.__name__}.{name}")
                for attribute, member in vars(value).items():
                    if not attribute.startswith("_") and inspect.isfunction(member):
                        names.add(f"{module.__name__}.{name}.{attribute}")
    return names


def test_the_walk_finds_functions_classes_and_methods() -> None:
    names = public_callables()
    assert {
        "companion.training.fit",
        "companion.rl.dqn.ReplayBuffer",
        "companion.rl.dqn.ReplayBuffer.add",
        "companion.bandits.BanditResult.final_reward",
        "companion.setup",
    } <= names
    assert not any(name.startswith("companion.checks.") for name in names)


def test_every_public_callable_has_bad_input_tests() -> None:
    covered = set().union(*(suite.CALLABLES_COVERED for suite in SUITES))
    assert sorted(public_callables() - covered) == []


def test_every_covered_name_exists() -> None:
    for suite in SUITES:
        assert sorted(suite.CALLABLES_COVERED - public_callables()) == [], suite.__name__
