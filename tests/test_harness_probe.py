"""studytools.harness_probe on the tiny preset: its rows, its lines and its one-line errors (no timed assertions)."""

from __future__ import annotations

import re

import pytest

from helpers.errors import StudyError
from helpers.runs import read_table
from studytools import harness_probe as hp

LINE = re.compile(r"^storage=(loaded|own) +interleave=(pass|batch) +threads=1 copy-[12]: ratio \d\.\d{4} "
                  r"\[\d\.\d{4}, \d\.\d{4}\] sd_log \d\.\d{4} (equivalent|different|inconclusive) \(n=3\)$")


def test_probe_times_identical_copies_under_every_setting(capsys, isolated_results):
    code = hp.main(["--preset", "tiny", "--copies", "3", "--repeats", "3", "--seconds", "0.02", "--sentences", "12",
                    "--threads", "1"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and out[0].startswith("== harness probe: 3 identical tiny copies")
    lines = out[1:]
    assert len(lines) == 2 * 2 * 2 and all(LINE.match(line) for line in lines), lines
    rows = read_table(isolated_results / "results" / hp.PROBE_FILE)
    # 2 storages x 2 interleaves x 3 copies x 3 repetitions, every row labelled with its setting
    assert len(rows) == 36
    assert {r["padding"] for r in rows} == {f"interleave={i} storage={s}" for i in ("pass", "batch")
                                            for s in ("loaded", "own")}
    assert {r["arm"] for r in rows} == {"copy-0", "copy-1", "copy-2"} and {r["threads"] for r in rows} == {"1"}


def test_copies_are_identical_and_own_storage_is_applied():
    import torch

    (a, b), _ = hp.load_copies(2, preset="tiny", storage="own")
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb) and pa.data_ptr() != pb.data_ptr() and pa.storage_offset() == 0


@pytest.mark.parametrize("argv, message", [
    (["--copies", "1"], "at least 2"),
    (["--repeats", "1"], "at least 2"),
    (["--interleave", "token"], "valid settings: pass, batch"),
    (["--storage", "shared"], "valid storages: loaded, own"),
])
def test_bad_arguments_are_one_line(argv, message):
    with pytest.raises(StudyError, match=message):
        hp.main(["--preset", "tiny", *argv])
