"""The embedded store's update sequence and journal. Every successful update, from any process,
advances `update-seq` (readers compare it to know whether to reopen their view; caches key on
it). While a build runs, each acknowledged update is also appended to `update-journal.jsonl` and
fsync'ed before it is acknowledged: the build replays those after its snapshot into the new
generation before the swap, so an update that lands during a build is never lost, even if a
process is killed. Both files are only written under the update lock (`locks.StoreLocks`)."""

from __future__ import annotations

import json
import os
from pathlib import Path


class UpdateJournal:
    def __init__(self, root: Path):
        self.sequence_file = root / "update-seq"
        self.journal_file = root / "update-journal.jsonl"

    def sequence(self) -> int:
        try:
            return int(self.sequence_file.read_text() or 0)
        except FileNotFoundError:
            return 0

    def record(self, update: str, *, for_build: bool) -> int:
        """After `update` was applied: journals it if a build will replay it, then advances the
        sequence; returns the new sequence number."""
        number = self.sequence() + 1
        if for_build:
            with open(self.journal_file, "a", encoding="utf-8") as journal:
                journal.write(json.dumps({"seq": number, "update": update}) + "\n")
                journal.flush()
                os.fsync(journal.fileno())
        temporary = self.sequence_file.with_name("update-seq.new")
        temporary.write_text(str(number))
        os.replace(temporary, self.sequence_file)  # readers never see a half-written number
        return number

    def since(self, number: int) -> list[str]:
        """The journaled updates after sequence `number`, in order. A line cut short by a kill was
        never acknowledged, and is skipped."""
        try:
            lines = self.journal_file.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return []
        updates = []
        for line in lines[:-1]:  # the text after the last newline is an unfinished line, or empty
            entry = json.loads(line)
            if entry["seq"] > number:
                updates.append(entry["update"])
        return updates

    def clear(self) -> None:
        self.journal_file.unlink(missing_ok=True)
