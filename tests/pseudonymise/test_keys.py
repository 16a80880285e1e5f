"""The deployment key: file handling, derivation, fingerprints, and never a byte in view."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import logging
import os
import pickle
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import (
    ENV_VAR,
    DeploymentKey,
    Secret,
    check_fingerprint,
    hkdf_expand,
    hkdf_extract,
    hkdf_sha256,
    init_key,
    key_file_text,
    load_key,
    previous_key_path,
    write_rotated,
)
from publieksdata.pseudonymise.pseudonyms import Pseudonymiser

NO_ENV: dict[str, str] = {}

# RFC 5869 appendix A.1-A.3 (SHA-256): ikm, salt, info, length, prk, okm
RFC5869 = [
    (
        "0b" * 22,
        "000102030405060708090a0b0c",
        "f0f1f2f3f4f5f6f7f8f9",
        42,
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (
        bytes(range(0x00, 0x50)).hex(),
        bytes(range(0x60, 0xB0)).hex(),
        bytes(range(0xB0, 0x100)).hex(),
        82,
        "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (
        "0b" * 22,
        "",
        "",
        42,
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    ),
]


@pytest.mark.parametrize(("ikm", "salt", "info", "length", "prk", "okm"), RFC5869)
def test_hkdf_matches_the_rfc_5869_test_vectors(
    ikm: str, salt: str, info: str, length: int, prk: str, okm: str
) -> None:
    assert hkdf_extract(bytes.fromhex(salt), bytes.fromhex(ikm)).hex() == prk
    assert hkdf_expand(bytes.fromhex(prk), bytes.fromhex(info), length).hex() == okm
    derived = hkdf_sha256(
        bytes.fromhex(ikm), salt=bytes.fromhex(salt), info=bytes.fromhex(info), length=length
    )
    assert derived.hex() == okm


@pytest.mark.parametrize("length", [0, 255 * 32 + 1])
def test_hkdf_refuses_impossible_lengths(length: int) -> None:
    with pytest.raises(ValueError, match="8160"):
        hkdf_expand(bytes(32), b"", length)


# --- Secret ---------------------------------------------------------------------------------


def test_a_secret_prints_as_stars_everywhere() -> None:
    secret = Secret(b"very secret bytes")
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>40}"]
    shown += ["%s" % secret, "{}".format(secret)]  # noqa: UP031, UP032  (old styles on purpose)
    shown += [repr([secret]), repr({"key": secret})]
    assert all("Secret('********')" in text for text in shown)
    assert not any("very" in text for text in shown)
    assert secret.reveal() == b"very secret bytes"


def test_a_secret_cannot_be_pickled_but_can_be_copied() -> None:
    secret = Secret(b"x" * 32)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret, protocol)
    with pytest.raises(TypeError):
        pickle.dumps(DeploymentKey.generate())
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"k": secret})["k"] is secret


def test_secrets_compare_by_value_and_are_not_hashable() -> None:
    assert Secret(b"abc") == Secret(b"abc")
    assert Secret(b"abc") != Secret(b"abd")
    assert Secret(b"abc") != b"abc"
    with pytest.raises(TypeError):
        hash(Secret(b"abc"))


# --- DeploymentKey --------------------------------------------------------------------------


def test_a_generated_key_has_256_random_bits_and_starts_at_generation_1() -> None:
    key = DeploymentKey.generate()
    assert len(key.secret.reveal()) == 32
    assert key.generation == 1
    assert key != DeploymentKey.generate()


def test_rotation_gives_an_independent_key_of_the_next_generation() -> None:
    key = DeploymentKey.generate()
    new = key.rotated()
    assert new.generation == 2
    assert new.secret != key.secret
    assert new.fingerprint != key.fingerprint


def test_the_fingerprint_is_a_short_one_way_mac_of_the_key() -> None:
    key = DeploymentKey(Secret(bytes(range(32))))
    expected = hmac.digest(bytes(range(32)), b"publieksdata key fingerprint v1", "sha256")
    assert key.fingerprint == expected.hex()[:16]
    assert DeploymentKey(Secret(bytes(range(32))), generation=5).fingerprint == key.fingerprint


def test_purpose_keys_are_hkdf_outputs_and_differ_per_purpose() -> None:
    key = DeploymentKey.generate()
    person = key.derive("person")
    assert person.reveal() == hkdf_sha256(key.secret.reveal(), info=b"publieksdata/person")
    purposes = ["person", "customer/inst-0001", "customer/inst-0002", "export", "deny-list"]
    derived = {key.derive(purpose).reveal() for purpose in purposes}
    assert len(derived) == len(purposes)
    assert key.secret.reveal() not in derived
    assert key.derive("export") == key.derive("export")
    assert DeploymentKey.generate().derive("export") != key.derive("export")


@pytest.mark.parametrize("purpose", ["", "per son", "persoon\n", "ëxport", "x" * 201])
def test_a_purpose_is_a_short_plain_name(purpose: str) -> None:
    with pytest.raises(ValueError, match="purpose"):
        DeploymentKey.generate().derive(purpose)


@pytest.mark.parametrize(("length", "generation"), [(31, 1), (33, 1), (32, 0)])
def test_a_key_object_refuses_a_wrong_length_or_generation(length: int, generation: int) -> None:
    with pytest.raises(ValueError, match=r"bytes|generation"):
        DeploymentKey(Secret(bytes(length)), generation)


# --- the key file ---------------------------------------------------------------------------


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "publieksdata.key"


@pytest.fixture
def initialised(key_path: Path) -> tuple[Path, DeploymentKey]:
    key_path.parent.mkdir()
    return key_path, init_key(key_path)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_a_0600_file_that_loads_as_the_same_key(key_path: Path) -> None:
    key_path.parent.mkdir()
    old_umask = os.umask(0)  # even a careless umask gives an owner-only file
    try:
        key = init_key(key_path)
    finally:
        os.umask(old_umask)
    assert mode(key_path) == 0o600
    lines = key_path.read_text("ascii").splitlines()
    assert lines[:2] == ["publieksdata-key v1", "generation 1"]
    assert lines[2] == "key " + base64.b64encode(key.secret.reveal()).decode()
    assert load_key(key_path, NO_ENV) == key
    assert sorted(p.name for p in key_path.parent.iterdir()) == [key_path.name], "no temp files"


def test_init_never_overwrites_an_existing_key(initialised: tuple[Path, DeploymentKey]) -> None:
    path, key = initialised
    before = path.read_bytes()
    with pytest.raises(PubliekError) as error:
        init_key(path)
    assert error.value.code == "key-exists"
    assert "key rotate" in error.value.message("en")
    assert path.read_bytes() == before
    assert load_key(path, NO_ENV) == key


def test_init_needs_an_existing_directory(key_path: Path) -> None:
    with pytest.raises(PubliekError) as error:
        init_key(key_path)
    assert error.value.code == "key-directory-missing"
    assert not key_path.parent.exists()


def test_the_environment_variable_takes_precedence(initialised: tuple[Path, DeploymentKey]) -> None:
    path, _ = initialised
    other = DeploymentKey.generate(generation=3)
    encoded = base64.b64encode(other.secret.reveal()).decode()
    assert load_key(path, {ENV_VAR: encoded}) == DeploymentKey(other.secret, 1)
    assert load_key(path, {ENV_VAR: f"g3:{encoded}"}) == other
    assert load_key(None, {ENV_VAR: f"  g3:{encoded}\n"}) == other


def test_a_missing_key_tells_the_operator_to_run_key_init(key_path: Path) -> None:
    for path in (key_path, None):
        with pytest.raises(PubliekError) as error:
            load_key(path, NO_ENV)
        assert error.value.code == "key-missing"
        assert "publieksdata key init" in error.value.message("nl")
        assert "publieksdata key init" in error.value.message("en")


@pytest.mark.parametrize("file_mode", [0o640, 0o604, 0o660, 0o644, 0o601])
def test_a_key_file_readable_by_others_is_refused(
    initialised: tuple[Path, DeploymentKey], file_mode: int
) -> None:
    path, _ = initialised
    path.chmod(file_mode)
    with pytest.raises(PubliekError) as error:
        load_key(path, NO_ENV)
    assert error.value.code == "key-permissions"
    assert f"chmod 600 {path}" in error.value.message("en")
    assert f"chmod 600 {path}" in error.value.message("nl")


def test_a_stricter_mode_is_fine(initialised: tuple[Path, DeploymentKey]) -> None:
    path, key = initialised
    path.chmod(0o400)
    assert load_key(path, NO_ENV) == key


GOOD_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "content",
    [
        "",
        f"publieksdata-key v2\ngeneration 1\nkey {GOOD_KEY}\n",
        f"generation 1\nkey {GOOD_KEY}\n",
        f"publieksdata-key v1\nkey {GOOD_KEY}\n",
        f"publieksdata-key v1\ngeneration 0\nkey {GOOD_KEY}\n",
        f"publieksdata-key v1\ngeneration een\nkey {GOOD_KEY}\n",
        f"publieksdata-key v1\ngeneration 1\nkey {GOOD_KEY}\nkey {GOOD_KEY}\n",
        f"publieksdata-key v1\ngeneration 1\nsleutel {GOOD_KEY}\n",
        f"publieksdata-key v1\ngeneration 1\nkey {GOOD_KEY[:-4]}!!!=\n",
        f"publieksdata-key v1\ngeneration 1\nkey {GOOD_KEY} extra\n",
        "publieksdata-key v1\ngeneration 1\nkey ëëë\n",
    ],
)
def test_a_malformed_key_file_is_refused(
    initialised: tuple[Path, DeploymentKey], content: str
) -> None:
    path, _ = initialised
    path.write_text(content, "utf-8")
    with pytest.raises(PubliekError) as error:
        load_key(path, NO_ENV)
    assert error.value.code == "key-malformed"
    assert error.value.__cause__ is None, "no low-level exception with file content attached"
    assert error.value.__suppress_context__


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused(
    initialised: tuple[Path, DeploymentKey], length: int
) -> None:
    path, _ = initialised
    encoded = base64.b64encode(bytes(length)).decode()
    path.write_text(f"publieksdata-key v1\ngeneration 1\nkey {encoded}\n", "ascii")
    with pytest.raises(PubliekError) as error:
        load_key(path, NO_ENV)
    assert error.value.code == ("key-malformed" if length == 0 else "key-length")
    with pytest.raises(PubliekError) as error:
        load_key(None, {ENV_VAR: encoded or "="})
    assert error.value.code in {"key-malformed", "key-length"}


@pytest.mark.parametrize("value", ["g0:" + GOOD_KEY, "g:" + GOOD_KEY, "x" + GOOD_KEY + "!", "g1"])
def test_a_malformed_environment_variable_is_refused(value: str) -> None:
    with pytest.raises(PubliekError) as error:
        load_key(None, {ENV_VAR: value})
    assert error.value.code in {"key-malformed", "key-length"}
    assert ENV_VAR in error.value.message("en")


# --- rotation of the file -------------------------------------------------------------------


def test_rotation_keeps_the_old_key_beside_the_new_one(
    initialised: tuple[Path, DeploymentKey],
) -> None:
    path, old = initialised
    new = old.rotated()
    backup = write_rotated(path, new)
    assert backup == previous_key_path(path, 1) == path.with_name(path.name + ".g1")
    assert load_key(path, NO_ENV) == new
    assert load_key(backup, NO_ENV) == old
    assert mode(path) == mode(backup) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, backup.name]


def test_an_interrupted_rotation_can_be_run_again(
    initialised: tuple[Path, DeploymentKey],
) -> None:
    path, old = initialised
    new = old.rotated()
    os.link(path, previous_key_path(path, 1))  # interrupted after keeping the old key
    assert write_rotated(path, new) == previous_key_path(path, 1)
    assert load_key(path, NO_ENV) == new
    assert load_key(previous_key_path(path, 1), NO_ENV) == old


def test_rotation_needs_a_higher_generation(initialised: tuple[Path, DeploymentKey]) -> None:
    path, old = initialised
    with pytest.raises(PubliekError) as error:
        write_rotated(path, DeploymentKey.generate(generation=1))
    assert error.value.code == "key-generation"
    assert load_key(path, NO_ENV) == old


def test_rotation_never_overwrites_a_different_kept_key(
    initialised: tuple[Path, DeploymentKey],
) -> None:
    path, old = initialised
    stranger = previous_key_path(path, 1)
    stranger.write_text(key_file_text(DeploymentKey.generate()), "ascii")
    stranger.chmod(0o600)
    with pytest.raises(PubliekError) as error:
        write_rotated(path, old.rotated())
    assert error.value.code == "key-backup-exists"
    assert load_key(path, NO_ENV) == old


# --- fingerprint check ----------------------------------------------------------------------


def test_the_fingerprint_check_refuses_another_key_and_names_the_expected_one() -> None:
    key, other = DeploymentKey.generate(), DeploymentKey.generate()
    check_fingerprint(key, None)
    check_fingerprint(key, key.fingerprint)
    with pytest.raises(PubliekError) as error:
        check_fingerprint(key, other.fingerprint)
    assert error.value.code == "key-mismatch"
    for message in (error.value.message("nl"), error.value.message("en")):
        assert other.fingerprint in message
        assert key.fingerprint in message


# --- G2: key material is never in view ------------------------------------------------------


def renderings(secret: bytes) -> list[str]:
    """Every way key bytes could show up in text."""
    return [
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode(),
        base64.b64encode(secret).decode()[:20],
        secret.hex(),
        secret.hex().upper(),
        secret.hex()[:20],
        repr(secret)[2:30],
        base64.b32encode(secret).decode()[:20],
    ]


def test_no_key_material_in_logs_output_reprs_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "publieksdata.key"
    shown: list[str] = []
    secrets_seen: list[bytes] = []

    def record_error(action: Callable[[], object]) -> None:
        with pytest.raises(PubliekError) as error:
            action()
        shown.extend([error.value.message("nl"), error.value.message("en"), str(error.value)])
        shown.append(repr(error.value))

    key = init_key(path)
    loaded = load_key(path, NO_ENV)
    from_env = load_key(None, {ENV_VAR: "g1:" + base64.b64encode(key.secret.reveal()).decode()})
    new = key.rotated()
    backup = write_rotated(path, new)
    old = load_key(backup, NO_ENV)
    derived = [key.derive(p) for p in ("person", "customer/inst-0001", "export", "deny-list")]
    pseudonymisers = [Pseudonymiser(k, "person") for k in (key, new)]
    secrets_seen += [k.secret.reveal() for k in (key, new)] + [d.reveal() for d in derived]

    record_error(lambda: init_key(path))
    record_error(lambda: check_fingerprint(key, new.fingerprint))
    record_error(lambda: write_rotated(path, key))
    path.chmod(0o644)
    record_error(lambda: load_key(path, NO_ENV))
    path.chmod(0o600)
    text = path.read_text("ascii")
    path.write_text(text.replace("\nkey ", "\nkey x"), "ascii")
    record_error(lambda: load_key(path, NO_ENV))
    path.write_text(text.replace("\nkey ", "\nkey AAAA"), "ascii")
    record_error(lambda: load_key(path, NO_ENV))
    record_error(lambda: load_key(None, {ENV_VAR: "g0:" + text.split()[-1]}))

    objects: list[object] = [key, loaded, from_env, new, old, *derived, *pseudonymisers]
    shown += [repr(o) for o in objects] + [str(o) for o in objects] + [f"{o}" for o in objects]
    shown += [repr(vars_of(o)) for o in objects if not isinstance(o, Secret)]
    captured = capfd.readouterr()
    shown += [caplog.text, captured.out, captured.err]
    assert "fingerprint" in caplog.text, "the test should see the module's log lines"
    everything = "\n".join(shown)
    for secret in secrets_seen:
        for rendering in renderings(secret):
            assert rendering not in everything


def vars_of(obj: object) -> dict[str, object]:
    """Attribute values as a traceback formatter would show them (a Secret's own slot is
    its bytes: that is the point of ``reveal``)."""
    names = getattr(type(obj), "__slots__", ())
    return {name: getattr(obj, name) for name in names if hasattr(obj, name)}


def test_the_fingerprint_reveals_nothing_usable_about_the_key() -> None:
    key = DeploymentKey.generate()
    assert key.fingerprint not in key.secret.reveal().hex()
    assert hashlib.sha256(key.secret.reveal()).hexdigest()[:16] != key.fingerprint
