"""The release policy: safe defaults, and every wrong value refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from publieksdata.errors import PubliekError
from publieksdata.release.policy import RULES, ReleasePolicy
from publieksdata.settings import Settings


def test_defaults_follow_the_design() -> None:
    policy = ReleasePolicy()
    assert (policy.k, policy.min_institutions) == (10, 3)
    assert all(getattr(policy, name) == rule.default for name, rule in RULES.items())


def test_a_policy_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[release]\nk = 15\nnoise = 3\nrounding = 5\n")
    policy = ReleasePolicy.load(path)
    assert (policy.k, policy.noise, policy.rounding, policy.min_institutions) == (15, 3, 5, 3)


@pytest.mark.parametrize(
    ("text", "code", "words"),
    [
        ("k = 1", "policy-bad-value", "k"),
        ("k = 'tien'", "policy-bad-value", "k"),
        ("k = true", "policy-bad-value", "k"),
        ("dominance_p = 120.0", "policy-bad-value", "dominance_p"),
        ("min_institutions = 1", "policy-bad-value", "min_institutions"),
        ("kk = 10", "policy-unknown-setting", "kk"),
        ("k = ", "policy-unreadable", "TOML"),
        ("k = 5\nnoise = 5", "policy-noise-too-large", "noise"),
    ],
)
def test_wrong_policies_are_refused(tmp_path: Path, text: str, code: str, words: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PubliekError) as caught:
        ReleasePolicy.load(path)
    assert caught.value.code == code
    assert words in caught.value.text("nl")
    assert words in caught.value.text("en")


def test_a_missing_policy_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PubliekError, match="does not exist"):
        ReleasePolicy.load(tmp_path / "nothing.toml")


def test_settings_use_the_policy_file_only_when_one_is_set(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("k = 20\n")
    assert Settings.load(env={}).release_policy() == ReleasePolicy()
    assert Settings.load(env={"PUBLIEKSDATA_POLICY": str(path)}).release_policy().k == 20
