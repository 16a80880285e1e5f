"""Keyed pseudonyms that can be re-keyed without the identifiers they came from (G2).

A ``p2`` pseudonym of a normalised identifier ``v`` for a purpose is::

    "p2." + base32(E_k(SHA-256("publieksdata pseudonym p2" 0x00 v)[:16]))   # 29 characters

where ``k`` is the purpose key derived from the deployment key (``DeploymentKey.derive``) and
``E_k`` is AES-256 on the 128-bit block, under a key expanded from ``k``. (``p1`` used a
Feistel network of HMAC rounds; AES is the same kind of permutation, many times faster.) Because
``E_k`` is invertible for whoever holds the key, rotation maps a stored pseudonym ``p`` to
``E_new(E_old⁻¹(p))``, which is exactly the pseudonym a fresh computation with the new key
gives. See docs/decisions/0005-keys-and-pseudonyms.md for why and for what an attacker with
a warehouse dump but no key can do.

Collisions: two different identifiers share a pseudonym only if their truncated SHA-256
digests collide (``E_k`` is a bijection). For n = 10⁸ identifiers that chance is about
n² / 2¹²⁹ ≈ 1.5 · 10⁻²³.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey, Secret, hkdf_expand

PSEUDONYM_VERSION = "p2"
PREFIX = PSEUDONYM_VERSION + "."
BLOCK_BYTES = 16
ENCODED_CHARS = 26  # ceil(128 / 5) base32 characters
PSEUDONYM_CHARS = len(PREFIX) + ENCODED_CHARS
_DOMAIN = b"publieksdata pseudonym p2\x00"
_CIPHER_KEY_INFO = b"publieksdata p2 aes-256 key"
_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)
_ALPHABET_INDEX = np.full(256, -1, dtype=np.int16)
_ALPHABET_INDEX[_ALPHABET] = np.arange(32)


def identifier_digest(value: str) -> bytes:
    """The unkeyed, domain-separated 128-bit digest that the keyed permutation encrypts."""
    return hashlib.sha256(_DOMAIN + value.encode("utf-8")).digest()[:BLOCK_BYTES]


def digest_sql(text: str) -> str:
    """DuckDB SQL for :func:`identifier_digest` of a text expression (NULL stays NULL),
    written as DuckDB writes a SHA-256: 64 hexadecimal characters, of which the first 32 are
    the digest (:meth:`Pseudonymiser.blocks_of_digests` reads them).

    DuckDB hashes a whole column on every core without holding the interpreter, which is
    what makes pseudonymising millions of identifiers cheap; the tests check it agrees.
    Turning the characters into bytes in SQL took as long as the hashing itself.
    """
    return f"sha256('{_DOMAIN[:-1].decode()}' || chr(0) || ({text}))"


def encode(block: bytes) -> str:
    """``p2.`` and the 16-byte block in lower-case base32 without padding."""
    return PREFIX + base64.b32encode(block).decode("ascii")[:ENCODED_CHARS].lower()


def decode(pseudonym: str) -> bytes:
    """The 16-byte block of a ``p2`` pseudonym; PubliekError when it is not one."""
    data = pseudonym.encode("utf-8")
    blocks = _decode_many(data, 1) if len(data) == PSEUDONYM_CHARS else None
    if blocks is None:
        _malformed()
    return blocks


class _Permutation:
    """A keyed permutation of 128-bit blocks: AES-256, one block at a time (ECB).

    Each block is the digest of one distinct identifier, so equal blocks meaning equal
    identifiers is the point, not a leak; the cipher makes the whole batch in one call.
    """

    __slots__ = ("_key",)

    def __init__(self, purpose_key: Secret) -> None:
        self._key = Secret(hkdf_expand(purpose_key.reveal(), _CIPHER_KEY_INFO, 32))

    def _cipher(self) -> Cipher[modes.ECB]:
        return Cipher(algorithms.AES(self._key.reveal()), modes.ECB())

    def encrypt(self, block: bytes) -> bytes:
        """One block."""
        return self.encrypt_many(block)

    def decrypt(self, block: bytes) -> bytes:
        """Inverse of ``encrypt`` for one block."""
        return self.decrypt_many(block)

    def encrypt_many(self, blocks: bytes) -> bytes:
        """Concatenated blocks, in one call."""
        encryptor = self._cipher().encryptor()
        return encryptor.update(blocks) + encryptor.finalize()

    def decrypt_many(self, blocks: bytes) -> bytes:
        """``decrypt`` for concatenated blocks."""
        decryptor = self._cipher().decryptor()
        return decryptor.update(blocks) + decryptor.finalize()

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("key material cannot be pickled")


class Pseudonymiser:
    """Pseudonyms for one purpose ("person", "customer/<institution>", "export", ...)."""

    __slots__ = ("_permutation", "fingerprint", "generation", "purpose")

    def __init__(self, key: DeploymentKey, purpose: str) -> None:
        self.purpose = purpose
        self.fingerprint = key.fingerprint
        self.generation = key.generation
        self._permutation = _Permutation(key.derive(purpose))

    def one(self, value: str) -> str:
        """The pseudonym of one normalised, non-empty identifier."""
        if not value:
            raise ValueError("an empty identifier has no pseudonym: normalise it to null")
        return encode(self._permutation.encrypt(identifier_digest(value)))

    def many(self, values: Any) -> Any:
        """Pseudonyms of a string array (or chunked array); nulls stay null.

        Every distinct value is computed once. Give batches of at most some millions of rows:
        a ``string`` result holds at most 2 GB.
        """
        if isinstance(values, pa.ChunkedArray):
            chunks = [self.many(chunk) for chunk in values.chunks]
            return pa.chunked_array(chunks, _result_type(values.type))
        indices, distinct = _distinct(values)
        if pc.any(pc.equal(distinct, "")).as_py():
            raise ValueError("an empty identifier has no pseudonym: normalise it to null")
        digest = hashlib.sha256(_DOMAIN)
        blocks = []
        for raw in distinct.cast(pa.binary()).to_pylist():
            hashed = digest.copy()
            hashed.update(raw)
            blocks.append(hashed.digest()[:BLOCK_BYTES])
        encrypted = self._permutation.encrypt_many(b"".join(blocks))
        return _encode_many(encrypted, len(distinct)).cast(distinct.type).take(indices)

    def blocks_of_digests(self, digests: Any) -> Any:
        """The pseudonyms of identifiers given as their :func:`identifier_digest` (as
        :func:`digest_sql` writes them), as the 16-byte blocks (``fixed_size_binary(16)``)
        that :func:`encoded` writes in base32: the form linkage stores and compares. Nulls
        stay null."""
        if isinstance(digests, pa.ChunkedArray):
            digests = digests.combine_chunks()
        present = digests.drop_null().cast(pa.string())
        encrypted = self._permutation.encrypt_many(_digest_bytes(present))
        return _spread(_blocks_array(encrypted, len(present)), digests.is_valid())

    def rekey_blocks(self, blocks: Any, new_key: DeploymentKey) -> Any:
        """:meth:`rekey` for blocks (from :meth:`blocks_of_digests`); nulls stay null."""
        present = blocks.drop_null()
        target = _Permutation(new_key.derive(self.purpose))
        rekeyed = target.encrypt_many(self._permutation.decrypt_many(_block_bytes(present)))
        return _spread(_blocks_array(rekeyed, len(present)), blocks.is_valid())

    def rekey(self, pseudonyms: Any, new_key: DeploymentKey) -> Any:
        """The pseudonyms this purpose gets under ``new_key``, computed from the old ones only."""
        if isinstance(pseudonyms, pa.ChunkedArray):
            chunks = [self.rekey(chunk, new_key) for chunk in pseudonyms.chunks]
            return pa.chunked_array(chunks, _result_type(pseudonyms.type))
        indices, distinct = _distinct(pseudonyms)
        blocks = _decode_array(distinct)
        target = _Permutation(new_key.derive(self.purpose))
        rekeyed = target.encrypt_many(self._permutation.decrypt_many(blocks))
        return _encode_many(rekeyed, len(distinct)).cast(distinct.type).take(indices)

    def __repr__(self) -> str:
        return (
            f"Pseudonymiser(purpose={self.purpose!r}, fingerprint={self.fingerprint!r}, "
            f"generation={self.generation})"
        )

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("a Pseudonymiser holds key material and cannot be pickled")


def _distinct(values: Any) -> tuple[Any, Any]:
    """Indices into, and the distinct values of, a string array (nulls only in the indices)."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"pseudonyms are made from and of text, not {values.type}")
    encoded = values.dictionary_encode()
    return encoded.indices, encoded.dictionary


_HEX_CHARS = 2 * hashlib.sha256().digest_size
_HEX_VALUE = np.full(256, 255, np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16)


def _digest_bytes(hex_digests: Any) -> bytes:
    """The digests that the first 32 of each 64 lower-case hexadecimal characters write
    (a ``string`` array without nulls), concatenated."""
    if len(hex_digests) == 0:
        return b""
    offsets = np.frombuffer(hex_digests.buffers()[1], np.int32)
    offsets = offsets[hex_digests.offset : hex_digests.offset + len(hex_digests) + 1]
    if (np.diff(offsets) != _HEX_CHARS).any():
        raise ValueError(f"a digest is {_HEX_CHARS} hexadecimal characters")
    chars = np.frombuffer(hex_digests.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
    nibbles = _HEX_VALUE[chars.reshape(-1, _HEX_CHARS)[:, : 2 * BLOCK_BYTES]]
    if (nibbles == 255).any():
        raise ValueError(f"a digest is {_HEX_CHARS} hexadecimal characters")
    return ((nibbles[:, 0::2] << 4) | nibbles[:, 1::2]).tobytes()


def _blocks_array(blocks: bytes, count: int) -> Any:
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(BLOCK_BYTES), count, [None, pa.py_buffer(blocks)]
    )


def _spread(values: Any, valid: Any) -> Any:
    """``values`` at the places where ``valid`` holds, null elsewhere."""
    if len(values) == len(valid):
        return values
    return pc.replace_with_mask(pa.nulls(len(valid), values.type), valid, values)


def encoded(blocks: Any) -> Any:
    """The ``p2`` pseudonyms of 16-byte blocks (``fixed_size_binary(16)``); nulls stay null."""
    present = blocks.drop_null()
    return _spread(_encode_many(_block_bytes(present), len(present)), blocks.is_valid())


def _block_bytes(blocks: Any) -> bytes:
    """The concatenated blocks of a ``fixed_size_binary(16)`` array without nulls."""
    if len(blocks) == 0:
        return b""
    start = blocks.offset * BLOCK_BYTES
    data: bytes = blocks.buffers()[1].to_pybytes()
    return data[start : start + len(blocks) * BLOCK_BYTES]


def blocks_of(pseudonyms: Any) -> Any:
    """The 16-byte blocks of ``p2`` pseudonyms (nulls stay null); PubliekError when a value
    is not one. Needs no key: the block is what the pseudonym writes in base32."""
    if isinstance(pseudonyms, pa.ChunkedArray):
        pseudonyms = pseudonyms.combine_chunks()
    indices, distinct = _distinct(pseudonyms)
    return _blocks_array(_decode_array(distinct), len(distinct)).take(indices)


def halves(blocks: Any) -> tuple[np.ndarray, np.ndarray]:
    """The two 64-bit halves of each 16-byte block, as the warehouse stores linkage keys
    (two BIGINT columns compare and join several times faster than 29-character text).
    The halves of a null are meaningless: filter nulls out first."""
    if isinstance(blocks, pa.ChunkedArray):
        blocks = blocks.combine_chunks()
    start = blocks.offset * 2
    words = np.frombuffer(blocks.buffers()[1], np.int64) if len(blocks) else np.zeros(0, np.int64)
    pairs = words[start : start + 2 * len(blocks)].reshape(len(blocks), 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()


def from_halves(high: np.ndarray, low: np.ndarray) -> Any:
    """The 16-byte blocks that :func:`halves` split."""
    words = np.column_stack([np.asarray(high, np.int64), np.asarray(low, np.int64)])
    return _blocks_array(words.tobytes(), len(words))


def _result_type(value_type: Any) -> Any:
    """Pseudonyms come back as ``large_string`` for ``large_string`` input, else ``string``."""
    if pa.types.is_dictionary(value_type):
        value_type = value_type.value_type
    return pa.large_string() if pa.types.is_large_string(value_type) else pa.string()


def _encode_many(blocks: bytes, count: int) -> Any:
    """``encode`` for concatenated blocks, as one arrow string array."""
    chars = _encode_chars(blocks, count)
    offsets = np.arange(0, (count + 1) * PSEUDONYM_CHARS, PSEUDONYM_CHARS, dtype=np.int32)
    buffers = [None, pa.py_buffer(offsets.tobytes()), pa.py_buffer(chars.tobytes())]
    return pa.Array.from_buffers(pa.string(), count, buffers)


def _encode_chars(blocks: bytes, count: int) -> np.ndarray[Any, Any]:
    """The characters of ``count`` pseudonyms as a (count, 29) byte matrix (numpy base32).

    Each block is read as two big-endian 64-bit halves; each character takes the next five
    of its 130 bits (128 and two zero bits), shifted out of the halves column by column.
    """
    halves = np.frombuffer(blocks, dtype=">u8").reshape(count, 2).astype(np.uint64)
    high, low = halves[:, 0], halves[:, 1]
    groups = np.empty((count, ENCODED_CHARS), dtype=np.uint8)
    for i in range(ENCODED_CHARS):
        start = 5 * i  # bit offset from the top of the 128 bits
        if start + 5 <= 64:
            value = high >> np.uint64(59 - start)
        elif start < 64:  # straddles the halves: bits of high, then of low
            value = (high << np.uint64(start + 5 - 64)) | (low >> np.uint64(128 - start - 5))
        else:
            shift = 128 - start - 5
            value = low >> np.uint64(shift) if shift >= 0 else low << np.uint64(-shift)
        groups[:, i] = (value & np.uint64(31)).astype(np.uint8)
    chars = np.empty((count, PSEUDONYM_CHARS), dtype=np.uint8)
    chars[:, : len(PREFIX)] = np.frombuffer(PREFIX.encode("ascii"), dtype=np.uint8)
    chars[:, len(PREFIX) :] = _ALPHABET[groups]
    return chars


def _decode_array(distinct: Any) -> bytes:
    """The blocks of distinct, non-null pseudonyms; PubliekError when any is not a p2 one."""
    if len(distinct) == 0:
        return b""
    lengths = pc.binary_length(distinct)
    if pc.min(lengths).as_py() != PSEUDONYM_CHARS or pc.max(lengths).as_py() != PSEUDONYM_CHARS:
        _malformed()
    try:
        data = "".join(distinct.to_pylist()).encode("ascii")
    except UnicodeEncodeError:
        _malformed()
    blocks = _decode_many(data, len(distinct))
    if blocks is None:
        _malformed()
    return blocks


def _decode_many(data: bytes, count: int) -> bytes | None:
    """Blocks of ``count`` concatenated 29-byte pseudonyms, or None unless all are canonical."""
    chars = np.frombuffer(data, dtype=np.uint8).reshape(count, PSEUDONYM_CHARS)
    values = _ALPHABET_INDEX[chars[:, len(PREFIX) :]]
    if (values < 0).any():
        return None
    bits = np.unpackbits(values.astype(np.uint8)[:, :, np.newaxis], axis=2)[:, :, 3:]
    blocks = np.packbits(bits.reshape(count, -1)[:, : BLOCK_BYTES * 8], axis=1).tobytes()
    # canonical: exactly what ``encode`` gives (prefix, lower case, zero padding bits)
    return blocks if np.array_equal(_encode_chars(blocks, count), chars) else None


def _malformed() -> NoReturn:
    raise PubliekError(
        "pseudonym-malformed",
        f"Deze kolom bevat waarden die geen pseudoniemen van versie {PSEUDONYM_VERSION} zijn; "
        "er is niets omgezet. Controleer of de juiste kolom wordt omgezet.",
        f"This column holds values that are not version {PSEUDONYM_VERSION} pseudonyms; "
        "nothing was converted. Check that the right column is being re-keyed.",
    )
