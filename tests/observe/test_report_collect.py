"""report (O8, O9 + durations and failures) and collect (O10, O11)."""

from __future__ import annotations

import json
from pathlib import Path

from observe_synth import make_run, record, write_records, write_stderr

from geryon.cli.main import main
from geryon.observe import report as report_module


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Section title -> table rows (cells split on unescaped pipes), header first."""
    tables: dict[str, list[list[str]]] = {}
    section = ""
    for line in markdown.splitlines():
        if line.startswith("## "):
            section = line[3:]
        elif line.startswith("| ") and line.endswith(" |"):
            cells = [c.strip().replace("\\|", "|") for c in _split_row(line[2:-2])]
            if set(cells) != {"---"}:
                tables.setdefault(section, []).append(cells)
    return tables


def _split_row(text: str) -> list[str]:
    cells, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += char
            escaped = False
        elif char == "\\":
            current += char
            escaped = True
        elif char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
    return [*cells, current]


def _seed(run4) -> None:
    failed = record(run4, 1, status="failed", duration=10.0, end="2026-01-02T03:04:09Z")
    write_stderr(
        failed, "loading\nTraceback (most recent call last)\nValueError: a|b\n"
    )
    write_records(
        run4,
        [
            record(run4, 0, duration=2.0),
            failed,
            record(run4, 2, status="terminated", reason="timeout_kill", duration=6.0),
        ],
    )


def test_markdown_report_tables(run4, capsys) -> None:
    _seed(run4)
    code = main(
        [
            "report",
            "--run",
            str(run4.root),
            "--format",
            "markdown",
            "--by-pack",
            "model",
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert text.startswith("# Geryon Report\n\n- Run ID: `run_20260102T030405Z`\n")
    assert text.endswith("\n") and not text.endswith("\n\n")
    tables = _tables(text)
    assert tables["Totals"] == [
        ["Metric", "Value"],
        ["Configs", "4"],
        ["Attempts", "3"],
        ["Corrupt JSONL Lines", "0"],
        ["Complete Configs", "1"],
        ["Pending Configs", "3"],
    ]
    assert tables["Latest Config Status"] == [
        ["Status", "Count"],
        ["failed", "1"],
        ["missing", "1"],
        ["success", "1"],
        ["terminated", "1"],
    ]
    assert tables["Grouped Status"] == [
        ["Group", "Total", "Complete", "Pending", "Latest By Status"],
        ["model=cnn", "2", "0", "2", '{"missing": 1, "terminated": 1}'],
        ["model=mlp", "2", "1", "1", '{"failed": 1, "success": 1}'],
    ]
    assert tables["Durations"] == [
        ["Group", "Attempts", "Min (s)", "Median (s)", "Max (s)"],
        ["all", "3", "2.000", "6.000", "10.000"],
        ["model=cnn", "1", "6.000", "6.000", "6.000"],
        ["model=mlp", "2", "2.000", "6.000", "10.000"],
    ]
    assert "Grouped by: `model`" in text
    ids = run4.ids()
    assert "\n".join(f"- `{cid}`" for cid in sorted(ids[1:])) in text
    assert "ValueError: a|b" in text
    assert text.index(f"### `{ids[1]}`") < text.index(f"### `{ids[2]}`")


def test_report_json_failures_and_durations(run4, cli_json) -> None:
    _seed(run4)
    code, payload = cli_json("report", "--run", str(run4.root))
    assert code == 0
    assert set(payload) == {
        "run_id",
        "run_root",
        "generated_at",
        "summary",
        "grouped_by_packs",
        "durations",
        "failures",
    }
    assert "grouped_by_packs" not in payload["summary"]
    assert payload["durations"]["overall"] == {
        "count": 3,
        "min_sec": 2.0,
        "median_sec": 6.0,
        "max_sec": 10.0,
    }
    failures = payload["failures"]
    assert (failures["total"], failures["more"]) == (2, 0)
    first, second = failures["items"]
    assert first["config_id"] == run4.ids()[1]  # ended last, listed first
    assert first["stderr_tail"] == [
        "loading",
        "Traceback (most recent call last)",
        "ValueError: a|b",
    ]
    assert first["stderr_path"].endswith(".stderr.log")
    assert second["status_reason"] == "timeout_kill"
    assert second["stderr_tail"] == []


def test_failure_list_is_capped(tmp_path: Path, cli_json, monkeypatch) -> None:
    monkeypatch.setattr(report_module, "FAILURES_SHOWN", 2)
    run = make_run(tmp_path, options=[{"p": str(n)} for n in range(5)])
    write_records(run, [record(run, n, status="failed") for n in range(5)])
    _, payload = cli_json("report", "--run", str(run.root))
    assert (len(payload["failures"]["items"]), payload["failures"]["more"]) == (2, 3)
    main(["report", "--run", str(run.root), "--format", "markdown"])


def test_report_out_writes_markdown(run4, tmp_path: Path, capsys) -> None:
    _seed(run4)
    target = tmp_path / "deep" / "er" / "report.md"
    assert main(["report", "--run", str(run4.root), "--out", str(target)]) == 0
    assert json.loads(capsys.readouterr().out) == {"output_path": str(target)}
    assert target.read_text().startswith("# Geryon Report\n")


def test_unfinished_list_is_capped_at_64(tmp_path: Path, capsys) -> None:
    run = make_run(tmp_path, options=[{"p": str(n)} for n in range(70)], batch_size=10)
    main(["report", "--run", str(run.root), "--format", "markdown"])
    text = capsys.readouterr().out
    section = (
        text.split("## Unfinished Config IDs\n\n")[1].split("\n\n")[0].splitlines()
    )
    assert len(section) == 65
    assert section[-1] == "- ... and 6 more"


def test_collect_summary_o11(run4, cli_json) -> None:
    ids = run4.ids()
    write_records(
        run4,
        [
            record(run4, 0, status="failed", end="2026-01-02T03:04:05Z"),
            record(run4, 0, status="success", end="2026-01-02T03:04:05.500000Z"),
            record(run4, 2, status="terminated"),
        ],
    )
    code, summary = cli_json("collect", "--run", str(run4.root))
    assert code == 0
    path = run4.layout.summary_json
    written = json.loads(path.read_text())
    assert summary == {**written, "summary_path": str(path), "dry_run": False}
    written.pop("generated_at")
    assert written == {
        "run_id": run4.root.name,
        "run_root": str(run4.root),
        "num_result_files": 1,
        "corrupt_result_lines": 0,
        "result_files": [str(run4.layout.results_dir / "task_local_0.jsonl")],
        "attempts": {
            "total": 3,
            "by_status": {"failed": 1, "success": 1, "terminated": 1},
        },
        "configs": {
            "total": 2,
            "final_by_status": {"success": 1, "terminated": 1},
            "failed_config_ids": [ids[2]],
        },
        "batches": {
            "total": 2,
            "by_batch": {"0": {"failed": 1, "success": 1}, "1": {"terminated": 1}},
        },
    }


def test_collect_dry_run_and_without_plan(run4, cli_json) -> None:
    write_records(run4, [record(run4, 0)])
    run4.layout.configs_jsonl.unlink()
    code, summary = cli_json("collect", "--run", str(run4.root), "--dry-run")
    assert code == 0
    assert summary["summary_path"] is None
    assert not run4.layout.summary_json.exists()
    assert summary["configs"]["final_by_status"] == {"success": 1}


def test_failure_details_name_the_slurm_job_log(run4, cli_json) -> None:
    failed = record(run4, 1, status="terminated", job="4711", task="1")
    write_records(run4, [failed], job="4711", task="1")
    job_log = run4.layout.exec_dir / ".snakemake/slurm_logs/rule_batch_0/0/4711.log"
    job_log.parent.mkdir(parents=True)
    job_log.write_text("slurmstepd: error: *** JOB 4711 CANCELLED ***\n")
    _, payload = cli_json("report", "--run", str(run4.root))
    assert payload["failures"]["items"][0]["slurm_log"] == str(job_log)


def test_report_lists_failures_latest_first_and_caps_them(
    tmp_path: Path, cli_json, monkeypatch
) -> None:
    # Six failures, two of which end at the same moment (plan order breaks the
    # tie); only five are listed.
    run = make_run(tmp_path, options=[{"p": str(n)} for n in range(8)])
    ends = ["03:04:09", "03:04:30", "03:04:30", "03:04:01", "03:04:20", "03:04:05"]
    records = [
        record(run, n, status="failed", end=f"2026-01-02T{end}.000000Z", duration=n)
        for n, end in enumerate(ends)
    ]
    records.append(record(run, 7, duration=1.5))
    write_records(run, records)
    monkeypatch.setattr(report_module, "FAILURES_SHOWN", 5)
    code, data = cli_json("report", "--run", str(run.root))
    assert code == 0
    failures = data["failures"]
    ids = run.ids()
    assert [item["config_id"] for item in failures["items"]] == [
        ids[1],
        ids[2],
        ids[4],
        ids[0],
        ids[5],
    ]
    assert (failures["total"], failures["more"]) == (6, 1)


def test_status_table_lists_the_slowest_configs_longest_first(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    run = make_run(tmp_path, options=[{"p": str(n)} for n in range(4)])
    durations = [3.25, 71.5, 12.75, None]
    records = [record(run, n, duration=d) for n, d in enumerate(durations)]
    write_records(run, records)
    assert main(["status", "--run", str(run.root)]) == 0
    text = capsys.readouterr().out
    section = text[text.index("Slowest configs") :]
    shown = [seconds for seconds in ("71.5", "12.8", "3.2") if seconds in section]
    assert shown == ["71.5", "12.8", "3.2"]
    assert [section.index(s) for s in shown] == sorted(section.index(s) for s in shown)
