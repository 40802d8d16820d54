"""The forked plan reader gives byte-identical ``status``/``report`` JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from observe_synth import SyntheticRun, make_run, record, write_records

from geryon.observe import parallel
from geryon.observe.index import build_index
from geryon.observe.report import report_payload

STATUSES = ["success", "failed", "terminated", None, "success"]


def _generated_run(tmp_path: Path) -> SyntheticRun:
    options = [{"model": f"m{n % 3}", "seed": f"s{n}"} for n in range(40)]
    run = make_run(tmp_path, options=options, batch_size=4)
    rows = [
        record(run, n, status=STATUSES[n % len(STATUSES)], reason="signal")
        for n in range(0, 40, 2)
    ]
    rows.append(record(run, 2, end="2026-01-02T03:05:05.000000Z", status="success"))
    write_records(run, rows)
    return run


def _status_json(root: Path, packs: list[str]) -> str:
    index = build_index(root, by_packs=packs, with_live=False)
    payload = {"status": index.to_json(), "report": report_payload(index)}
    payload["status"]["generated_at"] = "fixed"
    return json.dumps(payload, sort_keys=True, default=str)


@pytest.mark.parametrize("packs", [[], ["model"]])
def test_parallel_and_serial_status_are_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packs: list[str]
) -> None:
    run = _generated_run(tmp_path)
    forks: list[int] = []
    start = parallel.PlanReader.start

    def counted(self: parallel.PlanReader) -> None:
        start(self)
        forks.append(self.pid)

    decoded: list[int] = []
    decode = parallel._decode

    def decode_counted(blob: bytes) -> parallel.PlannedConfigs:
        decoded.append(len(blob))
        return decode(blob)

    monkeypatch.setattr(parallel.PlanReader, "start", counted)
    monkeypatch.setattr(parallel, "_decode", decode_counted)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 10**15)
    serial = _status_json(run.layout.root, packs)
    assert forks == []
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    forked = _status_json(run.layout.root, packs)
    # The child forked and its plan (not a serial re-read) was used.
    assert len(forks) == 1 and forks[0] > 0 and len(decoded) == 1
    assert forked == serial
    assert json.loads(forked)["status"]["configs"]["total"] == 40
