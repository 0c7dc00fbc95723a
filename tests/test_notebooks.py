"""The notebooks in notebooks/: committed without outputs, and each runs in a fresh kernel at a small size.

Every notebook reads ``KYOJOSIM_NOTEBOOK_SMALL=1`` in its parameter cell and then runs in seconds; it
writes its results under the kernel's working folder (here a temporary one). The figures must come
out as images (not ``<Figure size ...>`` text) and the results as HTML summaries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook tests need kyojosim[notebook] (nbformat)")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_the_four_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["01-quick-start", "02-intervention-comparison",
                                           "03-sweep-and-sensitivity", "04-simulated-survey"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for i, cell in enumerate(book.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"
    assert "widgets" not in book.metadata
    # one parameter cell that reads the small-size switch
    params = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "KYOJOSIM_NOTEBOOK_SMALL" in params[0].source


def _run(path: Path, workdir: Path):
    nbclient = pytest.importorskip("nbclient", reason="the notebook tests need kyojosim[notebook] (nbclient)")
    pytest.importorskip("ipykernel", reason="the notebook tests need kyojosim[notebook] (ipykernel)")
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return book


def _outputs(cell) -> list[dict]:
    return [o for o in cell.get("outputs", []) if o.get("output_type") in ("execute_result", "display_data")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_small_in_a_fresh_kernel(path, tmp_path, monkeypatch):
    monkeypatch.setenv("KYOJOSIM_NOTEBOOK_SMALL", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    book = _run(path, tmp_path)
    images = 0
    for i, cell in enumerate(book.cells):
        if cell.cell_type != "code":
            continue
        for out in _outputs(cell):
            data = out.get("data", {})
            text = data.get("text/plain", "")
            # a figure is shown as a picture, never only as its repr
            if "Figure size" in text:
                assert "image/png" in data, f"{path.name} cell {i} shows a figure as text: {text}"
            images += "image/png" in data
        # a cell whose last line is a figure of kyojosim.present.figures shows it
        if cell.source.strip().splitlines()[-1].startswith("figures."):
            assert any("image/png" in o.get("data", {}) for o in _outputs(cell)), f"{path.name} cell {i}: no image"
        # results show their HTML summary
        last = cell.source.strip().splitlines()[-1]
        if last in ("result", "results"):
            html = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(cell))
            assert "kyojosim-summary" in html, f"{path.name} cell {i}: no HTML summary"
    assert images >= 1
    # results stay in the kernel's working folder
    if path.stem in ("02-intervention-comparison", "03-sweep-and-sensitivity"):
        folders = list((tmp_path / "results").iterdir())
        assert len(folders) == 1 and (folders[0] / "manifest.json").is_file()
    if path.stem == "02-intervention-comparison":
        assert list((tmp_path / "results").glob("*/report-ja.html"))
