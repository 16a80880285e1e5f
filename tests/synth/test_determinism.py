"""The same seed gives byte-identical files, whatever the number of worker processes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from publieksdata.errors import PubliekError
from publieksdata.synth.config import SynthConfig, scale
from publieksdata.synth.generator import SectorSummary, generate_sector

SMALLER = SynthConfig(institutions=8, persons=1_500, seasons=3)


def fingerprints(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_output_in_parallel_too(
    tiny: SectorSummary, tmp_path: Path
) -> None:
    again = generate_sector(scale("tiny"), tmp_path / "again", workers=2)
    first, second = fingerprints(tiny.folder), fingerprints(again.folder)
    assert len(first) == len(tiny.exports) + 6  # manifest, institutions, four truth files
    assert first == second


def test_another_seed_gives_other_exports(tmp_path: Path) -> None:
    one = generate_sector(SMALLER, tmp_path / "one", workers=1)
    other = generate_sector(SMALLER.with_seed(7), tmp_path / "other", workers=1)
    exports_one = {k: v for k, v in fingerprints(one.folder).items() if k.startswith("exports")}
    exports_other = {k: v for k, v in fingerprints(other.folder).items() if k.startswith("exports")}
    assert set(exports_one.values()).isdisjoint(exports_other.values())


def test_regenerating_into_the_same_folder_replaces_the_sector(tmp_path: Path) -> None:
    generate_sector(SynthConfig(institutions=10, persons=1_500, seasons=3), tmp_path, workers=1)
    generate_sector(SMALLER, tmp_path, workers=1)
    assert len(list((tmp_path / "exports").iterdir())) == SMALLER.institutions


def test_a_folder_holding_something_else_is_never_overwritten(tmp_path: Path) -> None:
    precious = tmp_path / "thesis.docx"
    precious.write_text("years of work")
    with pytest.raises(PubliekError) as caught:
        generate_sector(SMALLER, tmp_path, workers=1)
    assert caught.value.code == "synth-folder-in-use"
    assert precious.read_text() == "years of work"
    assert not (tmp_path / "exports").exists()
