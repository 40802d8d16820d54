"""status JSON (spec O1–O7) over synthetic plans and attempt records."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from observe_synth import make_run, record, write_records, write_stderr

from geryon.cli.main import main
from geryon.observe.index import build_index, parse_by_pack


def test_status_json_exact(run4, cli_json) -> None:
    ids = run4.ids()
    write_records(
        run4,
        [
            record(run4, 0),
            record(run4, 1, status="failed"),
            record(run4, 2, status="terminated", reason="timeout_kill"),
        ],
    )
    code, data = cli_json("status", "--run", str(run4.root))
    assert code == 0
    generated = data.pop("generated_at")
    assert len(generated) == 20 and generated.endswith("Z")
    result_file = str(run4.layout.results_dir / "task_local_0.jsonl")
    assert data == {
        "run_id": "run_20260102T030405Z",
        "run_root": str(run4.root),
        "corrupt_result_lines": 0,
        "result_files": [result_file],
        "attempts": {
            "total": 3,
            "by_status": {"failed": 1, "success": 1, "terminated": 1},
        },
        "configs": {
            "total": 4,
            "latest_by_status": {
                "failed": 1,
                "missing": 1,
                "success": 1,
                "terminated": 1,
            },
            "completion": {"complete": 1, "pending": 3},
            "failed_config_ids": [ids[1]],
            "terminated_config_ids": [ids[2]],
            "missing_config_ids": [ids[3]],
            "running_config_ids": [],
            "unfinished_config_ids": sorted(ids[1:]),
            "terminated_reasons": {ids[2]: "timeout_kill"},
            "terminated_by_reason": {"timeout_kill": 1},
        },
        "batches": {
            "total": 2,
            "unfinished_batch_indices": [0, 1],
            "by_batch": {
                "0": {
                    "complete": 1,
                    "latest_failed": 1,
                    "latest_success": 1,
                    "pending": 1,
                    "planned": 2,
                },
                "1": {
                    "latest_missing": 1,
                    "latest_terminated": 1,
                    "pending": 2,
                    "planned": 2,
                },
            },
        },
        "orphan_attempt_config_ids": [],
        "grouped_by_packs": {"packs": [], "groups": []},
        "run_active": False,
        "snakemake": {
            "done_batch_indices": [],
            "incomplete_batch_indices": [],
            "failed_batch_indices": [],
            "latest_log": None,
        },
        "slurm_job_ids": {},
    }


def test_grouped_by_pack_o7(run4, cli_json) -> None:
    ids = run4.ids()
    write_records(run4, [record(run4, 0), record(run4, 3, status="failed")])
    code, data = cli_json(
        "status",
        "--run",
        str(run4.root),
        "--by-pack",
        " seed , model",
        "--by-pack",
        "seed",
    )
    assert code == 0
    assert data["grouped_by_packs"] == {
        "packs": ["seed", "model"],
        "groups": [
            {
                "key": {"seed": "s1", "model": "cnn"},
                "total": 1,
                "complete": 0,
                "pending": 1,
                "latest_by_status": {"missing": 1},
                "unfinished_config_ids": [ids[2]],
            },
            {
                "key": {"seed": "s1", "model": "mlp"},
                "total": 1,
                "complete": 1,
                "pending": 0,
                "latest_by_status": {"success": 1},
                "unfinished_config_ids": [],
            },
            {
                "key": {"seed": "s2", "model": "cnn"},
                "total": 1,
                "complete": 0,
                "pending": 1,
                "latest_by_status": {"failed": 1},
                "unfinished_config_ids": [ids[3]],
            },
            {
                "key": {"seed": "s2", "model": "mlp"},
                "total": 1,
                "complete": 0,
                "pending": 1,
                "latest_by_status": {"missing": 1},
                "unfinished_config_ids": [ids[1]],
            },
        ],
    }


def test_missing_pack_value_groups_as_missing(tmp_path: Path) -> None:
    run = make_run(tmp_path, options=[{"model": "a"}, {"model": "b", "extra": "x"}])
    index = build_index(run.root, by_packs=["extra"])
    keys = [group["key"] for group in index.grouped_json()["groups"]]
    assert keys == [{"extra": "<missing>"}, {"extra": "x"}]


def test_many_groups_are_grouped_like_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geryon.observe import index as index_module

    options = [{"a": f"a{n % 3}", "b": f"b{n % 2}"} for n in range(12)]
    options[5] = {"a": "a2"}
    run = make_run(tmp_path, options=options, batch_size=4)
    write_records(run, [record(run, 0), record(run, 5, status="failed")])
    few = build_index(run.root, by_packs=["a", "b"]).grouped_json()
    monkeypatch.setattr(index_module, "_FEW_GROUPS", 0)
    many = build_index(run.root, by_packs=["a", "b"]).grouped_json()
    assert many == few
    assert [g["key"] for g in few["groups"]][:2] == [
        {"a": "a0", "b": "b0"},
        {"a": "a0", "b": "b1"},
    ]
    assert {"a": "a2", "b": "<missing>"} in [g["key"] for g in few["groups"]]
    assert sum(g["total"] for g in few["groups"]) == 12


def test_unknown_pack_is_config_error(run4, capsys) -> None:
    assert main(["status", "--run", str(run4.root), "--by-pack", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("[config error]")
    assert "unknown pack(s) for --by-pack: nope; the plan has: model, seed" in err


def test_by_pack_parsing() -> None:
    assert parse_by_pack(("a, b", "", " ,c", "a")) == ["a", "b", "c"]


def test_missing_plan_is_config_error(run4, capsys) -> None:
    run4.layout.configs_jsonl.unlink()
    assert main(["status", "--run", str(run4.root)]) == 2
    err = capsys.readouterr().err
    assert "Planned configs not found" in err
    assert "Has 'plan' been run" in err


def test_not_a_run_directory(tmp_path: Path, capsys) -> None:
    assert main(["status", "--run", str(tmp_path)]) == 2
    assert "run.json is missing" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05.500000Z"),
        ("2026-01-02T03:04:05.500000Z", "2026-01-02T03:04:05Z"),
    ],
)
def test_latest_uses_parsed_times_q33(run4, cli_json, first: str, second: str) -> None:
    """``:05.5`` is later than ``:05`` although it sorts first as text."""
    ids = run4.ids()
    status_of = {
        "2026-01-02T03:04:05Z": "failed",
        "2026-01-02T03:04:05.500000Z": "success",
    }
    write_records(
        run4,
        [
            record(run4, 0, status=status_of[first], end=first),
            record(run4, 0, status=status_of[second], end=second),
        ],
    )
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["configs"]["latest_by_status"]["success"] == 1
    assert ids[0] not in data["configs"]["failed_config_ids"]
    _, summary = cli_json("collect", "--run", str(run4.root), "--dry-run")
    assert summary["configs"]["final_by_status"] == {"success": 1}


def test_equal_end_times_start_time_then_attempt_id_decide(run4, cli_json) -> None:
    end = "2026-01-02T03:04:05.000000Z"
    write_records(
        run4,
        [
            # config 0: equal end, the later start wins (listed first)
            record(
                run4, 0, status="success", end=end, start="2026-01-02T03:04:02.000000Z"
            ),
            record(
                run4, 0, status="failed", end=end, start="2026-01-02T03:04:01.000000Z"
            ),
            # config 1: equal end and start, the larger attempt id wins
            record(run4, 1, status="failed", end=end, attempt="f" * 32),
            record(run4, 1, status="success", end=end, attempt="0" * 32),
        ],
    )
    ids = run4.ids()
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["configs"]["failed_config_ids"] == [ids[1]]
    assert data["configs"]["latest_by_status"] == {
        "failed": 1,
        "missing": 2,
        "success": 1,
    }
    _, summary = cli_json("collect", "--run", str(run4.root), "--dry-run")
    assert summary["configs"]["failed_config_ids"] == [ids[1]]


def test_orphans_unknown_statuses_and_records_without_ids(run4, cli_json) -> None:
    orphan = record(run4, 0, attempt="a" * 32)
    orphan["config_id"] = "f" * 40
    no_status = record(run4, 1, status=None)
    no_id = record(run4, 2)
    del no_id["config_id"]
    write_records(run4, [orphan, no_status, no_id])
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["orphan_attempt_config_ids"] == ["f" * 40]
    assert data["attempts"] == {"total": 2, "by_status": {"success": 1, "unknown": 1}}
    assert data["configs"]["latest_by_status"] == {"missing": 4}


def test_duplicate_planned_ids_are_merged_o3(tmp_path: Path, cli_json) -> None:
    same = "d" * 40
    run = make_run(
        tmp_path,
        options=[{"p": "a"}, {"p": "b"}, {"p": "c"}],
        ids=[same, "e" * 40, same],
    )
    write_records(run, [record(run, 0)])
    _, data = cli_json("status", "--run", str(run.root))
    assert data["configs"]["total"] == 2
    assert data["batches"]["by_batch"]["1"] == {
        "complete": 1,
        "latest_success": 1,
        "planned": 1,
    }


def test_non_canonical_records_are_read_by_the_fallback(run4, cli_json) -> None:
    """Records with spaces (not geryon's canonical form) count exactly the same."""
    path = run4.layout.results_dir / "task_upstream_0.jsonl"
    lines = [
        json.dumps(record(run4, 0, status="failed", end="2026-01-02T03:04:05Z")),
        json.dumps(record(run4, 0, status="success", end="2026-01-02T03:04:06.25Z")),
    ]
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    write_records(run4, [record(run4, 1, status="failed")])
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["attempts"]["by_status"] == {"failed": 2, "success": 1}
    assert data["configs"]["latest_by_status"] == {
        "failed": 1,
        "missing": 2,
        "success": 1,
    }
    assert data["corrupt_result_lines"] == 0


def test_status_table_shows_progress_failures_and_next_command(
    run4, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    failed = record(run4, 1, status="failed")
    write_stderr(failed, "first line\nRuntimeError: out of luck\n")
    write_records(run4, [record(run4, 0, duration=99.5), failed])
    assert main(["status", "--run", str(run4.root)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "25.0% complete (1/4)" in text
    assert "Most recent failures (1 of 1)" in text
    assert "RuntimeError: out of luck" in text
    assert "99.5" in text
    assert f"next: geryon recover --run {run4.root} --status failed,missing" in text


def test_fast_and_full_plan_readers_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geryon.observe import planned as planned_module
    from geryon.observe.planned import load_planned

    # Each config's params hold a decoy "selected_options" (see make_run); the
    # readers must take the top-level one.
    options = [{"p": str(n), "q": "x"} for n in range(6)] + [{}]
    run = make_run(tmp_path, options=options, batch_size=3)
    fast = load_planned(run.layout)
    with_options = load_planned(run.layout, with_options=True)
    monkeypatch.setattr(planned_module, "_fast_planned", lambda *args: None)
    full = load_planned(run.layout, with_options=True)
    for other in (with_options, full):
        assert fast.config_ids == other.config_ids == run.ids()
        assert fast.batch_of == other.batch_of == [0, 0, 0, 1, 1, 1, 2]
        assert fast.line_of == other.line_of == [0, 1, 2, 0, 1, 2, 0]
        assert fast.num_batches == other.num_batches == 3
    assert with_options.options == full.options == options


def test_geryon_script_prints_everything_before_it_ends(run4) -> None:
    # The script ends the process without freeing the index (keep_until_exit):
    # what it printed must still arrive whole, with the command's exit code.
    script = Path(sys.executable).parent / "geryon"
    write_records(run4, [record(run4, 0), record(run4, 1, status="failed")])
    root = str(run4.root)

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *argv], capture_output=True, text=True, timeout=120
        )

    status = run("status", "--run", root, "--format", "json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["configs"]["latest_by_status"] == {
        "failed": 1,
        "missing": 2,
        "success": 1,
    }
    table = run("status", "--run", root)
    assert table.returncode == 0 and "next: geryon recover" in table.stdout
    report = run("report", "--run", root, "--format", "markdown")
    assert report.returncode == 0 and report.stdout.endswith("\n")
    assert "## Failures" in report.stdout
    missing = run("status", "--run", root + "-nope", "--format", "json")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    # A reader that stops early: no traceback either.
    piped = subprocess.run(
        f"{script} status --run {root} --format json | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.stdout == "{" and "Traceback" not in piped.stderr
