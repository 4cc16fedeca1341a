"""Runs a notebook written by `tl --notebook` again, cell by cell, through the tl Jupyter kernel
(nbclient, as `jupyter nbconvert --execute` does), and compares every output with what
`tl --notebook` wrote. Exit status 0 when they match.

    TL_BINARY=/path/to/tl python3 run_notebook.py NOTEBOOK.ipynb [OUT.ipynb]

Compared after normalising what legitimately differs between two runs: the training speed and
time in epoch lines, consecutive printed text (one stream or several), and the training bar's
display, which the kernel shows while training and empties at the end (`tl --notebook` has none).
"""
import copy
import json
import os
import re
import sys

import tl_kernelspec  # noqa: F401 (sets up the tl kernel for nbclient)
import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

SPEED = re.compile(r"[\d,.]+k? samples/s · [\d,.]+ (?:ms|s|min)")
# A history table's last two columns, samples/s and seconds, as text and as HTML.
TIMING_CELLS = re.compile(r'(?:<td style="text-align: right">[\d.]+</td>){2}</tr>')


def untimed(text):
    """Text without the run's speed: in epoch lines, and in the timing columns of history tables."""
    text = SPEED.sub("<speed>", text)
    if "samples/s" in text:
        text = TIMING_CELLS.sub("<timing></tr>", text)
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.rstrip().endswith("samples/s  seconds") or line.rstrip().endswith("samples/s   seconds"):
                for j in range(i + 2, len(lines)):
                    if not re.match(r"^\s*(\d+|…)\s", lines[j]):
                        break
                    lines[j] = " ".join(lines[j].split()[:-2]) + " <timing>"
                lines[i] = " ".join(lines[i].split())
                if i + 1 < len(lines):
                    lines[i + 1] = "<rule>"
        text = "\n".join(lines)
    return text


def normalised(outputs):
    result = []
    for o in outputs:
        kind = o["output_type"]
        if kind == "stream":
            text = o["text"] if isinstance(o["text"], str) else "".join(o["text"])
            if result and result[-1][0] == "stream" and result[-1][1] == o["name"]:
                result[-1] = ("stream", o["name"], result[-1][2] + text)
            else:
                result.append(("stream", o["name"], text))
            continue
        if kind in ("display_data", "execute_result"):
            data = {k: untimed(v if isinstance(v, str) else "".join(v)) for k, v in o["data"].items()}
            if list(data) == ["text/plain"] and data["text/plain"] == "":
                continue  # the training bar, emptied at the end
            result.append((kind, json.dumps(data, sort_keys=True)))
            continue
        if kind == "error":
            result.append((kind, o["ename"], o["evalue"]))
            continue
        result.append((kind,))
    return [(r[0], r[1], untimed(r[2])) if r[0] == "stream" else r for r in result]


def main():
    path = sys.argv[1]
    written = nbformat.read(path, 4)
    rerun = copy.deepcopy(written)
    for cell in rerun.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(rerun, kernel_name="tl", timeout=900, allow_errors=True,
                            resources={"metadata": {"path": os.getcwd()}})
    client.execute()
    if len(sys.argv) > 2:
        nbformat.write(rerun, sys.argv[2])
    differences = 0
    code_cells = [(a, b) for a, b in zip(written.cells, rerun.cells) if a.cell_type == "code" and a.execution_count is not None]
    for index, (a, b) in enumerate(code_cells):
        expected, got = normalised(a.outputs), normalised(b.outputs)
        if expected != got:
            differences += 1
            for e, g in zip(expected + [None] * len(got), got + [None] * len(expected)):
                if e != g:
                    print(f"cell {index + 1}: tl --notebook wrote {str(e)[:300]!r}, the kernel gave {str(g)[:300]!r}")
                    break
    name = os.path.basename(path)
    if differences:
        print(f"{name}: {differences} of {len(code_cells)} cells differ")
        sys.exit(1)
    print(f"{name}: the kernel's outputs match tl --notebook's in all {len(code_cells)} cells")


if __name__ == "__main__":
    main()
