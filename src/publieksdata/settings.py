"""Deployment settings, declared once: where the warehouse, mappings and key live.

Every setting has a safe default and can be set by an environment variable; the CLI's
options override both. The key file lives apart from the data folder (guarantee G2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from publieksdata.release.policy import ReleasePolicy


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default and meaning."""

    env: str
    default: str
    help: str


SETTINGS = {
    "data": Setting(
        "PUBLIEKSDATA_DATA", "publieksdata-data",
        "Folder with the warehouse (warehouse.duckdb) and saved mappings.",
    ),
    "key_file": Setting(
        "PUBLIEKSDATA_KEY_FILE", "publieksdata.key",
        "The deployment key file (mode 0600), kept outside the data folder; "
        "PUBLIEKSDATA_KEY holds the key itself instead.",
    ),
    "policy": Setting(
        "PUBLIEKSDATA_POLICY", "",
        "TOML file with the release policy (k, institutions, noise, rounding); empty: the "
        "safe defaults.",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one run."""

    data: Path
    key_file: Path
    policy: Path | None

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def ledger(self) -> Path:
        """The privacy-budget ledger (see release.budget)."""
        return self.data / "privacy-budget.sqlite"

    def release_policy(self) -> ReleasePolicy:
        """The deployment's release policy: the file if one is set, else the safe defaults."""
        return ReleasePolicy.load(self.policy) if self.policy else ReleasePolicy()

    @property
    def mappings(self) -> Path:
        return self.data / "mappings"

    @classmethod
    def load(cls, env: Mapping[str, str] = os.environ, **given: Path | None) -> Settings:
        """Given values first, then the environment, then the defaults."""

        def pick(name: str) -> str:
            return str(given.get(name) or env.get(SETTINGS[name].env, SETTINGS[name].default))

        policy = pick("policy")
        return cls(Path(pick("data")), Path(pick("key_file")), Path(policy) if policy else None)
