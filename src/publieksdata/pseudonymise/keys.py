"""The deployment key: a 256-bit secret held outside the warehouse (guarantee G2).

The key lives in a key file readable only by its owner (mode 0600) or in the environment
variable ``PUBLIEKSDATA_KEY``. Every purpose (persons, one institution's customers, exports)
gets its own key derived with HKDF-SHA256, so pseudonyms made for different purposes cannot be
joined without the deployment key. Key material never appears in a repr, a log line or an
error message: a warehouse is matched to its key by a one-way fingerprint instead.

Rotation (``write_rotated``) keeps the previous key file next to the new one as
``<name>.g<old generation>``: until the warehouse has re-keyed every stored pseudonym and
recorded the new fingerprint, that file is what lets an interrupted rotation resume. Delete it
once the warehouse reports the new fingerprint; only then is the old key truly retired.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from publieksdata.errors import PubliekError

log = logging.getLogger(__name__)

KEY_BYTES = 32
ENV_VAR = "PUBLIEKSDATA_KEY"
FILE_HEADER = "publieksdata-key v1"
HKDF_INFO_PREFIX = b"publieksdata/"
_FINGERPRINT_LABEL = b"publieksdata key fingerprint v1"
_PURPOSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}")
_ENV_VALUE = re.compile(r"(?:g(?P<generation>[1-9][0-9]{0,8}):)?(?P<key>[A-Za-z0-9+/=]+)")


class Secret:
    """Bytes that print as stars, refuse to be pickled and compare in constant time."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = bytes(value)

    def reveal(self) -> bytes:
        """The secret bytes: the only way to read them."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value, other._value)

    __hash__ = None  # type: ignore[assignment]  # a hash of the bytes would be a side channel

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Secret cannot be pickled: pass the key file or environment instead")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract with SHA-256 (RFC 5869 §2.2); an empty salt means 32 zero bytes."""
    return hmac.digest(salt or bytes(32), ikm, "sha256")


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand with SHA-256 (RFC 5869 §2.3)."""
    if not 0 < length <= 255 * 32:
        raise ValueError("HKDF-SHA256 gives between 1 and 8160 bytes")
    okm, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        okm += block
    return okm[:length]


def hkdf_sha256(ikm: bytes, *, salt: bytes = b"", info: bytes = b"", length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869): extract, then expand."""
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


class DeploymentKey:
    """The 256-bit deployment key and its generation (1 at ``key init``, +1 per rotation)."""

    __slots__ = ("_secret", "generation")

    def __init__(self, secret: Secret, generation: int = 1) -> None:
        if len(secret.reveal()) != KEY_BYTES:
            raise ValueError(f"a deployment key has {KEY_BYTES} bytes")
        if generation < 1:
            raise ValueError("key generations start at 1")
        self._secret = secret
        self.generation = generation

    @classmethod
    def generate(cls, generation: int = 1) -> DeploymentKey:
        """A fresh random key from the operating system's CSPRNG."""
        return cls(Secret(secrets.token_bytes(KEY_BYTES)), generation)

    def rotated(self) -> DeploymentKey:
        """A new, independent random key with the next generation number."""
        return DeploymentKey.generate(self.generation + 1)

    @property
    def secret(self) -> Secret:
        """The key bytes, still wrapped."""
        return self._secret

    @property
    def fingerprint(self) -> str:
        """16 hex digits identifying the key; one-way, so safe to store and show."""
        mac = hmac.digest(self._secret.reveal(), _FINGERPRINT_LABEL, "sha256")
        return mac.hex()[:16]

    def derive(self, purpose: str) -> Secret:
        """The 256-bit key for one purpose: HKDF-SHA256 with info ``publieksdata/<purpose>``."""
        if not _PURPOSE.fullmatch(purpose):
            raise ValueError(f"a purpose is 1-200 characters of A-Z a-z 0-9 . _ : / -: {purpose!r}")
        info = HKDF_INFO_PREFIX + purpose.encode("ascii")
        return Secret(hkdf_sha256(self._secret.reveal(), info=info, length=KEY_BYTES))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DeploymentKey):
            return NotImplemented
        return self.generation == other.generation and self._secret == other._secret

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DeploymentKey(generation={self.generation}, fingerprint={self.fingerprint!r})"


def key_file_text(key: DeploymentKey) -> str:
    """The key file's content: header, generation and the key in base64."""
    encoded = base64.b64encode(key.secret.reveal()).decode("ascii")
    return f"{FILE_HEADER}\ngeneration {key.generation}\nkey {encoded}\n"


def previous_key_path(path: Path, generation: int) -> Path:
    """Where ``write_rotated`` keeps the key of ``generation`` after a rotation."""
    return path.with_name(f"{path.name}.g{generation}")


def init_key(path: Path) -> DeploymentKey:
    """Create a new key file (mode 0600, generation 1); never overwrites an existing file."""
    if path.exists() or path.is_symlink():
        _fail(
            "key-exists",
            f"Het sleutelbestand {path} bestaat al en wordt niet overschreven. Gebruik "
            "`publieksdata key rotate` om de sleutel te vervangen.",
            f"The key file {path} already exists and is not overwritten. Use "
            "`publieksdata key rotate` to replace the key.",
        )
    _require_directory(path)
    key = DeploymentKey.generate()
    _write_new_file(path, key_file_text(key))
    log.info("created key file %s (generation 1, fingerprint %s)", path, key.fingerprint)
    return key


def write_rotated(path: Path, new_key: DeploymentKey) -> Path:
    """Replace the key file by ``new_key``, keeping the old key as ``<name>.g<old generation>``.

    Returns the path of the kept old key. Safe to run again after an interruption.
    """
    old = _load_file(path)
    if new_key.generation <= old.generation:
        _fail(
            "key-generation",
            f"De nieuwe sleutel moet een hogere generatie hebben dan {old.generation}.",
            f"The new key must have a generation above {old.generation}.",
        )
    backup = previous_key_path(path, old.generation)
    if backup.exists() and _load_file(backup) != old:
        _fail(
            "key-backup-exists",
            f"{backup} bestaat al en bevat een andere sleutel. Zet dat bestand eerst veilig weg.",
            f"{backup} already exists and holds a different key. Move that file away first.",
        )
    if not backup.exists():
        os.link(path, backup)  # same inode, same 0600 mode; atomic and never overwrites
    _replace_file(path, key_file_text(new_key))
    log.info(
        "rotated key file %s to generation %d (fingerprint %s); previous key kept in %s",
        path,
        new_key.generation,
        new_key.fingerprint,
        backup,
    )
    return backup


def load_key(path: Path | None, env: Mapping[str, str] = os.environ) -> DeploymentKey:
    """The deployment key from ``PUBLIEKSDATA_KEY`` when set, otherwise from the key file."""
    if env.get(ENV_VAR, "").strip():
        key = _parse_env(env[ENV_VAR].strip())
        log.info("using the key from %s (fingerprint %s)", ENV_VAR, key.fingerprint)
        return key
    if path is None:
        _fail(
            "key-missing",
            f"Geen sleutel: geef een sleutelbestand op of zet {ENV_VAR}. Een nieuwe installatie "
            "begint met `publieksdata key init`.",
            f"No key: give a key file or set {ENV_VAR}. A new installation starts with "
            "`publieksdata key init`.",
        )
    key = _load_file(path)
    log.info("using the key from %s (fingerprint %s)", path, key.fingerprint)
    return key


def check_fingerprint(key: DeploymentKey, expected: str | None) -> None:
    """Refuse a key other than the one the warehouse was built with (None: a new warehouse)."""
    if expected is None or expected == key.fingerprint:
        return
    _fail(
        "key-mismatch",
        f"Deze sleutel (vingerafdruk {key.fingerprint}) hoort niet bij het warehouse, dat "
        f"sleutel {expected} verwacht. Gebruik het juiste sleutelbestand of {ENV_VAR}; start "
        "niet met een andere sleutel, anders worden personen niet meer herkend.",
        f"This key (fingerprint {key.fingerprint}) does not belong to the warehouse, which "
        f"expects key {expected}. Use the right key file or {ENV_VAR}; do not start with "
        "another key, or persons will no longer be recognised.",
    )


def _fail(code: str, nl: str, en: str) -> NoReturn:
    # ``from None``: a chained low-level exception must not carry file content into a trace
    raise PubliekError(code, nl, en) from None


def _require_directory(path: Path) -> None:
    if not path.parent.is_dir():
        _fail(
            "key-directory-missing",
            f"De map {path.parent} bestaat niet. Maak die eerst aan (bijv. `mkdir -m 700`).",
            f"The directory {path.parent} does not exist. Create it first (e.g. `mkdir -m 700`).",
        )


def _write_new_file(path: Path, text: str) -> None:
    """Write a complete 0600 file, then link it into place: atomic and never overwriting."""
    temporary = _write_temporary(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        _fail(
            "key-exists",
            f"Het sleutelbestand {path} bestaat al en wordt niet overschreven.",
            f"The key file {path} already exists and is not overwritten.",
        )
    finally:
        temporary.unlink()
    _sync_directory(path.parent)


def _replace_file(path: Path, text: str) -> None:
    temporary = _write_temporary(path, text)
    os.replace(temporary, path)
    _sync_directory(path.parent)


def _write_temporary(path: Path, text: str) -> Path:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.write(descriptor, text.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return temporary


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _load_file(path: Path) -> DeploymentKey:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        _fail(
            "key-missing",
            f"Sleutelbestand {path} niet gevonden. Maak een sleutel met `publieksdata key init` "
            f"of zet {ENV_VAR}.",
            f"Key file {path} not found. Create a key with `publieksdata key init` "
            f"or set {ENV_VAR}.",
        )
    if not stat.S_ISREG(mode):
        _malformed(f"{path}")
    if mode & 0o077:
        _fail(
            "key-permissions",
            f"Het sleutelbestand {path} is leesbaar voor anderen (modus {stat.filemode(mode)}). "
            f"Maak het alleen voor de eigenaar toegankelijk: `chmod 600 {path}`.",
            f"The key file {path} is accessible to others (mode {stat.filemode(mode)}). "
            f"Make it owner-only: `chmod 600 {path}`.",
        )
    return _parse_file(path.read_bytes(), f"{path}")


def _parse_file(content: bytes, where: str) -> DeploymentKey:
    try:
        lines = content.decode("ascii").split("\n")
    except UnicodeDecodeError:
        _malformed(where)
    if lines[-1] == "":
        lines.pop()
    if len(lines) != 3 or lines[0].strip() != FILE_HEADER:
        _malformed(where)
    generation = lines[1].split()
    key = lines[2].split()
    if len(generation) != 2 or generation[0] != "generation" or not generation[1].isdigit():
        _malformed(where)
    if len(key) != 2 or key[0] != "key":
        _malformed(where)
    return _key_from_base64(key[1], int(generation[1]), where)


def _parse_env(value: str) -> DeploymentKey:
    match = _ENV_VALUE.fullmatch(value)
    if match is None:
        _malformed(ENV_VAR)
    generation = int(match["generation"] or 1)
    return _key_from_base64(match["key"], generation, ENV_VAR)


def _key_from_base64(encoded: str, generation: int, where: str) -> DeploymentKey:
    try:
        secret = Secret(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        _malformed(where)
    if len(secret.reveal()) != KEY_BYTES:
        _fail(
            "key-length",
            f"De sleutel in {where} is geen sleutel van {KEY_BYTES * 8} bits. Gebruik de "
            "sleutel zoals `publieksdata key init` die maakte.",
            f"The key in {where} is not a {KEY_BYTES * 8}-bit key. Use the key as "
            "`publieksdata key init` made it.",
        )
    if generation < 1:
        _malformed(where)
    return DeploymentKey(secret, generation)


def _malformed(where: str) -> NoReturn:
    if where == ENV_VAR:
        expected = "'<base64>', 'g<generation>:<base64>'"
    else:
        expected = f"'{FILE_HEADER}', 'generation <n>', 'key <base64>'"
    _fail(
        "key-malformed",
        f"{where} bevat geen geldige publieksdata-sleutel (verwacht: {expected}). Zet de "
        "oorspronkelijke sleutel terug.",
        f"{where} does not hold a valid publieksdata key (expected: {expected}). Restore the "
        "original key.",
    )
