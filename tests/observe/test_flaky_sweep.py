"""A real flaky sweep: launch -> status shows failures -> recover -> all succeed.

Real Snakemake, the real batch wrapper and real commands: ``flaky.py`` fails on
the first attempt of every config whose ``flaky`` param is true (it leaves a marker
file behind) and succeeds afterwards.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from geryon.cli.main import main

FLAKY_APP = """\
import pathlib
import sys

args = dict(a.lstrip("+").split("=", 1) for a in sys.argv[1:] if "=" in a)
marker = pathlib.Path(args["marker_dir"]) / f"seed{args['seed']}"
if args["flaky"] == "true" and not marker.exists():
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("failed once")
    print(f"seed {args['seed']}: first attempt fails on purpose", file=sys.stderr)
    sys.exit(3)
print(f"seed {args['seed']}: ok")
"""


def _experiment(folder: Path) -> Path:
    (folder / "flaky.py").write_text(FLAKY_APP, encoding="utf-8")
    markers = folder / "markers"
    text = f"""\
        schema:
          version: 4
        command:
          program: {json.dumps(sys.executable)}
          args: ["flaky.py"]
        defaults:
          params:
            marker_dir: {json.dumps(str(markers))}
        select:
          packs:
            - name: seed
              options:
                - {{id: s1, params: {{seed: 1, flaky: false}}}}
                - {{id: s2, params: {{seed: 2, flaky: true}}}}
                - {{id: s3, params: {{seed: 3, flaky: false}}}}
                - {{id: s4, params: {{seed: 4, flaky: true}}}}
        """
    path = folder / "experiment.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main([*argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_flaky_sweep_recovers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    experiment = _experiment(tmp_path)
    code, launched = _json(
        capsys,
        [
            "launch",
            "--experiment",
            str(experiment),
            "--out",
            str(tmp_path / "out"),
            "--batch-size",
            "2",
            "--run-id",
            "flaky",
        ],
    )
    assert code == 1
    run = launched["plan"]["run_root"]

    code, status = _json(capsys, ["status", "--run", run])
    assert code == 0
    configs = status["configs"]
    assert configs["latest_by_status"] == {"failed": 2, "success": 2}
    assert len(configs["failed_config_ids"]) == 2
    assert status["batches"]["unfinished_batch_indices"] == [0, 1]
    assert status["run_active"] is False
    assert status["snakemake"]["failed_batch_indices"] == [0, 1]
    assert status["snakemake"]["done_batch_indices"] == []

    code, report = _json(capsys, ["report", "--run", run])
    tails = sorted(item["stderr_tail"][-1] for item in report["failures"]["items"])
    assert tails == [
        "seed 2: first attempt fails on purpose",
        "seed 4: first attempt fails on purpose",
    ]

    # s1 succeeded; naming it explicitly runs it again (Q26).
    order = launched_order(run)
    code, recovered = _json(capsys, ["recover", "--run", run, "--config-id", order[0]])
    assert code == 0
    assert recovered["retry"]["target_config_ids"] == [order[0], order[1], order[3]]
    assert recovered["retry"]["target_batch_indices"] == [0, 1]
    assert Path(recovered["retry"]["retry_file"]).is_file()

    code, status = _json(capsys, ["status", "--run", run])
    assert status["configs"]["latest_by_status"] == {"success": 4}
    assert status["attempts"] == {"by_status": {"failed": 2, "success": 5}, "total": 7}
    assert status["batches"]["unfinished_batch_indices"] == []
    assert status["snakemake"]["done_batch_indices"] == [0, 1]
    assert status["snakemake"]["failed_batch_indices"] == []

    code, summary = _json(capsys, ["collect", "--run", run])
    assert summary["configs"]["final_by_status"] == {"success": 4}
    assert (
        json.loads((Path(run) / "exec/results/summary.json").read_text())["attempts"][
            "total"
        ]
        == 7
    )


def launched_order(run: str) -> list[str]:
    lines = (Path(run) / "plan" / "configs.jsonl").read_text().splitlines()
    return [json.loads(line)["config_id"] for line in lines]
