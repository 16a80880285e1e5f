"""Near-valid and broken files: a delivery gives a balanced report or a clear error, never a
traceback and never a partial load."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publieksdata.deliver.delivery import deliver_file
from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey
from publieksdata.synth.config import SynthConfig
from publieksdata.synth.generator import generate_sector
from publieksdata.warehouse.store import Warehouse

KEY = DeploymentKey.generate()


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a small export of every CSV layout, named after its layout."""
    sector_folder = tmp_path_factory.mktemp("sector")
    sector = generate_sector(
        SynthConfig(institutions=12, persons=300, seasons=2), sector_folder, workers=1
    )
    folder = tmp_path_factory.mktemp("originals")
    for export in sector.exports:
        target = folder / f"{export['layout']}.csv"
        if export["format"] == "csv" and not target.exists():
            data = (sector_folder / export["file"]).read_bytes()
            target.write_bytes(data[: data.find(b"\n", 20_000) + 1 or None])
    return folder


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "cut", "drop", "insert", "duplicate_line"]),
        st.floats(0, 1),
        st.binary(min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, steps: list[tuple[str, float, bytes]]) -> bytes:
    for kind, where, extra in steps:
        at = int(where * len(data))
        if kind == "flip" and data:
            data = data[:at] + extra + data[at + len(extra) :]
        elif kind == "cut":
            data = data[:at]
        elif kind == "drop":
            data = data[:at] + data[at + 40 :]
        elif kind == "insert":
            data = data[:at] + extra * 3 + data[at:]
        elif kind == "duplicate_line":
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at) + 1 or len(data)
            data = data[:end] + data[start:end] + data[end:]
    return data


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=st.sampled_from(["kassa_nl", "boxoffice_en", "legacy_cp1252", "admissions_tsv"]),
       steps=mutations)  # fmt: skip
def test_a_mangled_export_is_loaded_whole_or_refused_whole(
    originals: Path, tmp_path: Path, layout: str, steps: list[tuple[str, float, bytes]]
) -> None:
    path = tmp_path / f"{layout}.csv"
    path.write_bytes(mutate((originals / f"{layout}.csv").read_bytes(), steps))
    warehouse_path = tmp_path / "w.duckdb"
    warehouse_path.unlink(missing_ok=True)
    with Warehouse(warehouse_path, KEY.fingerprint) as warehouse:
        refused: PubliekError | None = None
        try:
            report = deliver_file(path, "I0001", warehouse, KEY)
        except PubliekError as error:
            refused = error
        if refused is not None:
            assert refused.message("nl")
            assert refused.message("en")
            assert warehouse.scalar("SELECT count(*) FROM tickets") == 0
            assert warehouse.scalar("SELECT count(*) FROM deliveries") == 0
            return
        assert report.balanced()
        assert warehouse.scalar("SELECT count(*) FROM tickets") == report.loaded
