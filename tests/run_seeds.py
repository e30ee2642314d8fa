"""Execute a chapter under several seeds and report whether its checks hold for each.

    python tests/run_seeds.py book/01_gradient_step.ipynb 0 1 2 3 4     (or: make seeds)

The chapter's `parameters` cell gets ``SEED = <seed>`` (as papermill would inject it),
the notebook runs from a fresh kernel, and any error outside a cell tagged
``raises-exception`` fails that seed. Glued values are printed so that a maintainer
can see how much each number moves with the seed before asserting on it.
(papermill itself exits non-zero on a notebook with a `raises-exception` cell.)
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_with_seed(path: Path, seed: int, timeout: int = 600) -> tuple[list[str], dict[str, str], float]:
    """Execute `path` with SEED = seed; return (errors, glued values as text, seconds)."""
    notebook = nbformat.read(path, as_version=4)
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if len(parameters) != 1:
        raise ValueError(f"{path} must have exactly one cell tagged 'parameters', found {len(parameters)}")
    parameters[0].source = re.sub(r"^SEED\s*=.*$", f"SEED = {seed}", parameters[0].source, count=1, flags=re.M)
    start = time.perf_counter()
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    seconds = time.perf_counter() - start
    errors, glued = [], {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                errors.append(f"cell {index}: {output.ename}: {output.evalue}")
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                glued[name] = next(iter(output.data.values()))
    return errors, glued, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("seeds", type=int, nargs="+")
    args = parser.parse_args()
    failed = 0
    for seed in args.seeds:
        errors, glued, seconds = run_with_seed(args.notebook, seed)
        status = "ok" if not errors else "FAILED"
        print(f"SEED={seed}: {status} in {seconds:.1f} s")
        for error in errors:
            print(f"    {error}")
        for name, value in glued.items():
            print(f"    {name} = {value}")
        failed += bool(errors)
    print(f"{len(args.seeds) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
