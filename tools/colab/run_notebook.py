"""Execute one chapter as Colab would: every cell tag removed, widget state stored.

Run by the Python of the Colab-like environment (it imports that environment's nbclient),
by `tools/colab_check.py`, one process per chapter:

    python run_notebook.py IN.ipynb OUT.ipynb RESULT.json --kernel NAME --cwd DIR --timeout S

Writes the executed notebook (up to the first failing cell) to OUT.ipynb and what happened
to RESULT.json: {"ok": bool, "cell": index of the first failing cell or null, "source": its
code, "error": the error's name and text, "traceback": the traceback as plain text}.
"""

from __future__ import annotations

import argparse
import json
import re
import traceback
from typing import Any

import nbformat
from nbclient import NotebookClient

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_tags(notebook: Any) -> None:
    """Remove every cell's tags: Colab ignores them (e.g. `raises-exception`)."""
    for cell in notebook.cells:
        cell.metadata.pop("tags", None)


def first_error(notebook: Any) -> dict[str, Any] | None:
    """The first code cell with an error output: its index, code, error and traceback."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return {
                    "cell": index,
                    "source": cell.source,
                    "error": f"{output.get('ename')}: {output.get('evalue')}",
                    "traceback": ANSI.sub("", "\n".join(output.get("traceback", []))),
                }
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("executed")
    parser.add_argument("result")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--cwd", required=True)
    parser.add_argument("--timeout", type=int, default=900)
    args = parser.parse_args()

    notebook = nbformat.read(args.notebook, as_version=4)
    strip_tags(notebook)
    client = NotebookClient(
        notebook,
        timeout=args.timeout,
        kernel_name=args.kernel,
        resources={"metadata": {"path": args.cwd}},
        store_widget_state=True,
        allow_errors=False,
    )
    result: dict[str, Any] = {"ok": True, "cell": None, "source": "", "error": "", "traceback": ""}
    try:
        client.execute()
    except Exception as exc:
        # A cell error leaves an error output in the notebook; a timeout or a dead kernel does not.
        result = first_error(notebook) or {
            "cell": None,
            "source": "",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
        result["ok"] = False
    finally:
        nbformat.write(notebook, args.executed)
        with open(args.result, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=1)


if __name__ == "__main__":
    main()
