"""A plan with more batches than one chunk Snakefile runs end to end, once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from engine_plans import config_ids, records

from geryon.cli.main import main


def run_local(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, dict]:
    code = main(["run-local", "--format", "json", "--run", str(root)])
    return code, json.loads(capsys.readouterr().out)


def test_many_chunks_record_every_config_once_and_rerun_does_nothing(
    make_plan, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GERYON_CHUNK_BATCHES", "3")
    root = make_plan(["true"] * 8, batch_size=1)

    code, report = run_local(capsys, root)
    assert code == 0
    names = [Path(p).name for p in report["snakemake"]["snakefiles"]]
    assert names == ["Snakefile_0000", "Snakefile_0001", "Snakefile_0002"]
    assert report["configs"] == {"selected": 8, "success": 8}
    first = records(root)
    assert Counter(r["config_id"] for r in first) == Counter(config_ids(root))
    assert {r["status"] for r in first} == {"success"}
    markers = root / "exec" / "markers" / report["selection"]["selection_id"]
    assert len(list(markers.glob("batch_*.done"))) == 8
    logs = root / "exec" / "snakemake_logs"
    started = sorted(logs.iterdir())

    code, again = run_local(capsys, root)
    assert code == 0
    assert again["configs"] == {"selected": 8, "success": 8}
    assert records(root) == first
    # Every chunk was complete, so Snakemake was not even started.
    assert sorted(logs.iterdir()) == started


def test_bad_chunk_size_is_a_config_error(make_plan, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GERYON_CHUNK_BATCHES", "zero")
    root = make_plan(["true"], batch_size=1)
    assert main(["run-local", "--run", str(root)]) == 2
    err = capsys.readouterr().err
    assert "GERYON_CHUNK_BATCHES='zero' is not a positive integer" in err
