"""rerun and recover without execution (O12–O15, Q25, Q26, Q36)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from observe_synth import record, write_records

from geryon.cli.main import main
from geryon.observe.rerun import parse_statuses


@pytest.fixture
def seeded(run4):
    write_records(
        run4,
        [
            record(run4, 0),
            record(run4, 1, status="failed"),
            record(run4, 2, status="terminated", reason="timeout_kill"),
        ],
    )
    return run4


def test_rerun_writes_retry_file_o13(seeded, cli_json) -> None:
    ids = seeded.ids()
    code, payload = cli_json("rerun", "--run", str(seeded.root))
    assert code == 0
    path = seeded.layout.retries_dir / f"{payload['retry_id']}.json"
    assert payload["retry_file"] == str(path)
    written = json.loads(path.read_text())
    assert payload == {**written, "retry_file": str(path), "dry_run": False}
    assert written["retry_id"].startswith("retry_")
    written.pop("created_at"), written.pop("retry_id"), written.pop("notes")
    assert written == {
        "run_id": "run_20260102T030405Z",
        "run_root": str(seeded.root),
        "status_filter": ["failed"],
        "explicit_config_ids": [],
        "target_config_ids": [ids[1]],
        "target_batch_indices": [0],
        "num_target_configs": 1,
        "num_target_batches": 1,
        "resume_required": True,
    }


def test_rerun_statuses_and_explicit_ids_in_plan_order(seeded, cli_json) -> None:
    ids = seeded.ids()
    code, payload = cli_json(
        "rerun",
        "--run",
        str(seeded.root),
        "--status",
        "missing,terminated",
        "--config-id",
        ids[0],
        "--config-id",
        ids[0],
        "--dry-run",
    )
    assert code == 0
    assert payload["target_config_ids"] == [ids[0], ids[2], ids[3]]
    assert payload["explicit_config_ids"] == [ids[0]]
    assert payload["target_batch_indices"] == [0, 1]
    assert payload["status_filter"] == ["missing", "terminated"]
    assert payload["retry_file"] is None and payload["dry_run"] is True
    assert list(seeded.layout.retries_dir.iterdir()) == []


def test_rapid_reruns_never_overwrite_q36(seeded, cli_json) -> None:
    names = {
        cli_json("rerun", "--run", str(seeded.root))[1]["retry_file"] for _ in range(25)
    }
    assert len(names) == 25
    files = sorted(p.name for p in seeded.layout.retries_dir.iterdir())
    assert len(files) == 25 and all(f.startswith("retry_") for f in files)
    for name in names:
        data = json.loads(Path(name).read_text())
        assert name.endswith(f"{data['retry_id']}.json")


def test_rerun_errors(seeded, capsys) -> None:
    assert main(["rerun", "--run", str(seeded.root), "--config-id", "abc"]) == 2
    assert "config id(s) not in the plan: abc" in capsys.readouterr().err
    ok = [record(seeded, n) for n in range(4)]
    write_records(
        seeded, [{**r, "end_time": "2027-01-01T00:00:00.000000Z"} for r in ok]
    )
    assert main(["rerun", "--run", str(seeded.root)]) == 2
    assert "No rerun targets found" in capsys.readouterr().err
    assert main(["rerun", "--run", str(seeded.root), "--status", "done"]) == 2
    assert "unknown status 'done'" in capsys.readouterr().err


def test_parse_statuses() -> None:
    assert parse_statuses(()) == ["failed"]
    assert parse_statuses(("terminated, failed", "failed", "missing")) == [
        "terminated",
        "failed",
        "missing",
    ]


def test_recover_dry_run_writes_and_runs_nothing(seeded, cli_json) -> None:
    code, result = cli_json(
        "recover",
        "--run",
        str(seeded.root),
        "--status",
        "failed,terminated",
        "--dry-run",
    )
    assert code == 0
    assert result["backend"] == "local" and result["dry_run"] is True
    assert result["execution"] == {
        "skipped": True,
        "reason": "dry_run",
        "backend": "local",
    }
    assert result["retry"]["num_target_configs"] == 2
    assert list(seeded.layout.retries_dir.iterdir()) == []
    assert not (seeded.layout.exec_dir / "Snakefile").exists()


def test_recover_batch_index_outside_targets(seeded, capsys) -> None:
    code = main(["recover", "--run", str(seeded.root), "--batch-index", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "No rerun targets found for status failed in batches [1]" in err
    assert list(seeded.layout.retries_dir.iterdir()) == []
