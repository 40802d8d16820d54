"""Streaming plan artifacts (spec §7, A1–A11) into a temporary directory.

Config records are written while combinations are enumerated, into
``<out>/runs/.<run_id>.tmp-*``. Only after every config was generated are the
summary files written, the directory renamed to ``<out>/runs/<run_id>`` and,
last, ``run.json`` written atomically: a crash at any point leaves either no run
directory or one without ``run.json`` (an unfinished plan), never a plan that
looks complete. A failed plan removes its temporary directory (A1).

Every JSON line is canonical JSON (ASCII only), so byte offsets into
``configs.jsonl`` are string lengths.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass

# The C encoder behind canonical.dumps for strings, without its Python wrapper.
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any, Protocol

import yaml

from geryon import canonical, storage
from geryon.layout import EXEC_SUBDIRS, RunLayout, batch_name

log = logging.getLogger("geryon.plan.writer")

_BUFFER_BYTES = 1 << 20
_PENDING_LINES = 2048


class ConfigSink(Protocol):
    """Where the planner sends each config, in plan order."""

    def add(
        self,
        batch_index: int,
        line_index: int,
        config_id: str,
        command: str,
        params_json: str,
        tags_json: str,
        wandb_name: str,
        selected_json: str,
        tags_csv: str,
    ) -> None: ...


class NullSink:
    """The sink of ``plan --dry-run``: writes nothing."""

    def add(self, *record: Any) -> None:
        return None


@dataclass(frozen=True)
class SnapshotFile:
    """One loaded experiment file, copied into ``plan/snapshot/`` (Q23)."""

    path: Path
    package: str | None
    text: str


class ArtifactWriter:
    """Writes one plan; use :meth:`add` per config, then :meth:`finish` or :meth:`abort`."""

    def __init__(self, out: Path, run_id: str) -> None:
        self.run_id = run_id
        self.run_id_json = canonical.dumps(run_id)
        runs_dir = out / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
        self.final_root = runs_dir / run_id
        self.tmp_root = Path(tempfile.mkdtemp(prefix=f".{run_id}.tmp-", dir=runs_dir))
        self.tmp = RunLayout(self.tmp_root)
        (self.tmp.plan_dir / "batches").mkdir(parents=True)
        self.configs = self._open(self.tmp.configs_jsonl)
        self.manifest = self._open(self.tmp.plan_dir / "manifest.jsonl")
        self.manifest_csv = self._open(self.tmp.plan_dir / "manifest.csv")
        self.manifest_csv.write("id,wandb_name,tags,params\r\n")
        self.batches = self._open(self.tmp.batches_jsonl)
        self.batch_file: IO[str] | None = None
        self.batch_index = -1
        self.batch_start = 0
        self.batch_count = 0
        self.offset = 0
        # Lines of the current batch not yet written (at most _PENDING_LINES).
        self.config_lines: list[str] = []
        self.manifest_lines: list[str] = []
        self.csv_lines: list[str] = []
        self.commands: list[str] = []
        # Bound once: add() runs per config, and the lists are only ever cleared.
        self._add_config = self.config_lines.append
        self._add_manifest = self.manifest_lines.append
        self._add_csv = self.csv_lines.append
        self._add_command = self.commands.append

    def _open(self, path: Path, encoding: str = "ascii") -> IO[str]:
        return path.open("w", encoding=encoding, newline="", buffering=_BUFFER_BYTES)

    def add(
        self,
        batch_index: int,
        line_index: int,
        config_id: str,
        command: str,
        params_json: str,
        tags_json: str,
        wandb_name: str,
        selected_json: str,
        tags_csv: str,
    ) -> None:
        if batch_index != self.batch_index:
            self._start_batch(batch_index)
        # f-strings, not %-templates: about three times faster for these lines
        # (measured), and add() runs per config. Field order is A2's sorted keys.
        command_json = encode_basestring_ascii(command)
        self._add_config(
            f'{{"batch_index":{batch_index},"command":{command_json},'
            f'"config_id":"{config_id}","line_index":{line_index},'
            f'"params":{params_json},"run_id":{self.run_id_json},'
            f'"selected_options":{selected_json},"tags":{tags_json},'
            f'"wandb_name":"{wandb_name}"}}\n'
        )
        self._add_manifest(
            f'{{"id":"{config_id}","params":{params_json},"tags":{tags_json},'
            f'"wandb_name":"{wandb_name}"}}\n'
        )
        # A6 quoting: params JSON always holds '"'. ``tags_csv`` is the quoted
        # tags JSON (the planner joins it from per-tag pieces).
        params_csv = params_json.replace('"', '""')
        self._add_csv(f'{config_id},{wandb_name},{tags_csv},"{params_csv}"\r\n')
        self._add_command(command)
        if len(self.commands) >= _PENDING_LINES:
            self._write_pending()

    def _write_pending(self) -> None:
        """Write the buffered lines: one large write per file instead of one per line."""
        if not self.commands:
            return
        text = "".join(self.config_lines)
        self.configs.write(text)
        self.offset += len(text)
        self.batch_count += len(self.commands)
        self.manifest.write("".join(self.manifest_lines))
        self.manifest_csv.write("".join(self.csv_lines))
        assert self.batch_file is not None
        self.batch_file.write("\n".join(self.commands) + "\n")
        for pending in (
            self.config_lines,
            self.manifest_lines,
            self.csv_lines,
            self.commands,
        ):
            pending.clear()

    def _start_batch(self, batch_index: int) -> None:
        self._end_batch()
        self.batch_index = batch_index
        self.batch_start = self.offset
        self.batch_count = 0
        path = self.tmp.batch_file(batch_index)
        self.batch_file = path.open("w", encoding="utf-8", newline="")

    def _end_batch(self) -> None:
        """A3 plus the byte range of the batch in ``configs.jsonl``."""
        if self.batch_file is None:
            return
        self._write_pending()
        self.batch_file.close()
        self.batch_file = None
        record = {
            "batch_index": self.batch_index,
            "path": f"plan/batches/{batch_name(self.batch_index)}.txt",
            "num_commands": self.batch_count,
            "configs_offset": self.batch_start,
            "configs_bytes": self.offset - self.batch_start,
        }
        self.batches.write(canonical.dumps(record) + "\n")

    def _close_streams(self) -> None:
        self._end_batch()
        for handle in (self.configs, self.manifest, self.manifest_csv, self.batches):
            if not handle.closed:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()

    def finish(
        self,
        *,
        diagnostics: dict[str, Any],
        summary_text: str,
        run_set_info: dict[str, Any],
        document: dict[str, Any],
        files: Iterable[SnapshotFile],
        run_info: dict[str, Any],
    ) -> RunLayout:
        """Write the remaining artifacts, move the plan into place, write run.json."""
        self._close_streams()
        storage.write_json_atomic(self.tmp.diagnostics_json, diagnostics)
        storage.write_text_atomic(self.tmp.diagnostics_summary, summary_text)
        storage.write_json_atomic(self.tmp.run_set_json, run_set_info)
        write_snapshot(self.tmp.plan_dir, document, list(files))
        for name in EXEC_SUBDIRS:
            (self.tmp.exec_dir / name).mkdir(parents=True, exist_ok=True)
        os.rename(self.tmp_root, self.final_root)
        log.info("plan written to %s", self.final_root)
        final = RunLayout(self.final_root)
        storage.write_text_atomic(final.run_json, canonical.dumps(run_info) + "\n")
        return final

    def abort(self) -> None:
        """Remove everything written so far (A1)."""
        try:
            self._close_streams()
        except OSError:
            log.debug("closing streams of an aborted plan failed", exc_info=True)
        shutil.rmtree(self.tmp_root, ignore_errors=True)


def write_snapshot(
    plan_dir: Path, document: dict[str, Any], files: list[SnapshotFile]
) -> None:
    """Q23: the composed document, plus every loaded file under ``plan/snapshot/``.

    Files keep their paths relative to the deepest directory that holds them all,
    so relative imports still resolve and the snapshot can be planned again.
    """
    header = (
        "# The composed experiment this plan was made from (imports, selectors and\n"
        "# the run-set overlay applied). The original files are in snapshot/.\n"
    )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    storage.write_text_atomic(plan_dir / "experiment.snapshot.yaml", header + body)
    if not files:
        return
    base = Path(os.path.commonpath([str(f.path.parent) for f in files]))
    index = []
    written: set[Path] = set()
    for item in files:
        relative = item.path.relative_to(base)
        index.append(
            {
                "path": relative.as_posix(),
                "original_path": str(item.path),
                "package": item.package,
            }
        )
        if relative not in written:
            written.add(relative)
            storage.write_text_atomic(plan_dir / "snapshot" / relative, item.text)
    storage.write_json_atomic(plan_dir / "snapshot" / "index.json", {"files": index})
