"""Keyed pseudonyms: deterministic, unjoinable across purposes and keys, re-keyable (G2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import pickle
import re
from collections.abc import Callable

import duckdb
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from publieksdata.errors import PubliekError
from publieksdata.pseudonymise.keys import DeploymentKey, Secret, hkdf_expand, hkdf_sha256
from publieksdata.pseudonymise.pseudonyms import (
    PSEUDONYM_VERSION,
    Pseudonymiser,
    _Permutation,
    blocks_of,
    decode,
    digest_sql,
    encode,
    encoded,
    from_halves,
    halves,
    identifier_digest,
)

KEY = DeploymentKey.generate()
NEW_KEY = KEY.rotated()
NEWER_KEY = NEW_KEY.rotated()
PERSON = Pseudonymiser(KEY, "person")
NEW_PERSON = Pseudonymiser(NEW_KEY, "person")
NEWER_PERSON = Pseudonymiser(NEWER_KEY, "person")
SHAPE = re.compile(r"p2\.[a-z2-7]{25}[aeimquy4]")  # the last character holds 3 bits and 00

identifiers = st.text(min_size=1, max_size=40)
columns = st.lists(
    st.one_of(st.none(), identifiers, st.sampled_from(["a@b.nl", "0612345678", "K-001"])),
    max_size=60,
)


def emails(count: int) -> list[str]:
    """Plausible, distinct e-mail addresses: the attacker's candidate list."""
    first = ["jan", "anna", "piet", "fatima", "mohamed", "sanne", "daan", "emma", "lucas", "noor"]
    last = ["jansen", "devries", "bakker", "visser", "smit", "meijer", "yilmaz", "mulder"]
    domains = ["gmail.com", "hotmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com"]
    return [f"{first[i % 10]}.{last[i // 10 % 8]}{i // 80}@{domains[i % 5]}" for i in range(count)]


def reference(master: bytes, purpose: str, value: str) -> str:
    """The p2 scheme exactly as documented, written out independently of the module."""
    purpose_key = hkdf_sha256(master, info=b"publieksdata/" + purpose.encode())
    cipher_key = hkdf_expand(purpose_key, b"publieksdata p2 aes-256 key", 32)
    block = hashlib.sha256(b"publieksdata pseudonym p2\x00" + value.encode()).digest()[:16]
    encryptor = Cipher(algorithms.AES(cipher_key), modes.ECB()).encryptor()
    encrypted = encryptor.update(block) + encryptor.finalize()
    return "p2." + base64.b32encode(encrypted).decode()[:26].lower()


# --- shape and determinism ------------------------------------------------------------------


def test_a_pseudonym_carries_the_version_label_and_128_bits() -> None:
    pseudonym = PERSON.one("jan.jansen@example.nl")
    assert PSEUDONYM_VERSION == "p2"
    assert pseudonym.startswith("p2.")
    assert len(pseudonym) == 29
    assert SHAPE.fullmatch(pseudonym)
    assert len(decode(pseudonym)) == 16


def test_the_method_is_pinned_by_a_known_answer() -> None:
    """Changing the method without a new version label would silently split persons."""
    key = DeploymentKey(Secret(bytes(range(32))))
    assert Pseudonymiser(key, "person").one("jan.jansen@example.nl") == (
        "p2.j7wjmbtfsvn4ysisbgidyzzl3y"
    )
    assert Pseudonymiser(key, "customer/inst-0001").one("jan.jansen@example.nl") == (
        "p2.drz45f5bognlkkww5gpgdcshtm"
    )


@given(identifiers, st.sampled_from(["person", "customer/inst-0042", "export"]))
def test_the_module_follows_the_documented_scheme(value: str, purpose: str) -> None:
    expected = reference(KEY.secret.reveal(), purpose, value)
    assert Pseudonymiser(KEY, purpose).one(value) == expected


@given(identifiers)
def test_pseudonyms_are_deterministic(value: str) -> None:
    again = Pseudonymiser(DeploymentKey(Secret(KEY.secret.reveal())), "person")
    assert PERSON.one(value) == PERSON.one(value) == again.one(value)
    assert SHAPE.fullmatch(PERSON.one(value))


@given(st.binary(min_size=16, max_size=16))
def test_encode_and_decode_are_inverse(block: bytes) -> None:
    assert decode(encode(block)) == block
    assert encode(block) == "p2." + base64.b32encode(block).decode()[:26].lower()


@given(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=20))
def test_the_keyed_permutation_is_invertible_and_batch_equals_single(blocks: list[bytes]) -> None:
    permutation = _Permutation(KEY.derive("person"))
    joined = b"".join(blocks)
    encrypted = permutation.encrypt_many(joined)
    assert encrypted == b"".join(permutation.encrypt(block) for block in blocks)
    assert permutation.decrypt_many(encrypted) == joined
    assert [permutation.decrypt(permutation.encrypt(block)) for block in blocks] == blocks


def test_distinct_identifiers_give_distinct_pseudonyms() -> None:
    values = emails(50_000)
    assert len(set(PERSON.many(pa.array(values)).to_pylist())) == len(values)


# --- unjoinable across purposes and keys ----------------------------------------------------

PURPOSES = ["person", "customer/inst-0001", "customer/inst-0002", "export", "deny-list"]


def test_different_purposes_give_unjoinable_pseudonyms() -> None:
    values = pa.array(emails(5_000))
    sets = [set(Pseudonymiser(KEY, purpose).many(values).to_pylist()) for purpose in PURPOSES]
    for i, first in enumerate(sets):
        for second in sets[i + 1 :]:
            assert not first & second


def test_different_keys_give_unjoinable_pseudonyms() -> None:
    values = pa.array(emails(5_000))
    keys = [KEY, NEW_KEY, DeploymentKey.generate(), DeploymentKey(Secret(bytes(32)))]
    sets = [set(Pseudonymiser(key, "person").many(values).to_pylist()) for key in keys]
    for i, first in enumerate(sets):
        for second in sets[i + 1 :]:
            assert not first & second


# --- many -----------------------------------------------------------------------------------


@given(columns)
def test_many_equals_one_element_wise_with_nulls_and_duplicates(values: list[str | None]) -> None:
    result = PERSON.many(pa.array(values, pa.string()))
    assert result.type == pa.string()
    assert result.to_pylist() == [None if v is None else PERSON.one(v) for v in values]


@given(columns)
def test_many_accepts_large_strings_dictionaries_and_chunks(values: list[str | None]) -> None:
    expected = [None if v is None else PERSON.one(v) for v in values]
    large = PERSON.many(pa.array(values, pa.large_string()))
    assert large.type == pa.large_string()
    assert large.to_pylist() == expected
    assert PERSON.many(pa.array(values, pa.string()).dictionary_encode()).to_pylist() == expected
    half = len(values) // 2
    chunked = pa.chunked_array([values[:half], values[half:]], pa.string())
    assert PERSON.many(chunked).to_pylist() == expected


def test_many_of_nothing_and_of_only_nulls() -> None:
    assert PERSON.many(pa.array([], pa.string())).to_pylist() == []
    assert PERSON.many(pa.array([None, None], pa.string())).to_pylist() == [None, None]
    assert PERSON.many(pa.chunked_array([], pa.string())).to_pylist() == []


def test_an_empty_identifier_is_refused_rather_than_linking_everyone_without_one() -> None:
    with pytest.raises(ValueError, match="null"):
        PERSON.one("")
    with pytest.raises(ValueError, match="null"):
        PERSON.many(pa.array(["a@b.nl", ""]))


def test_only_text_is_pseudonymised() -> None:
    with pytest.raises(TypeError, match="text"):
        PERSON.many(pa.array([1, 2, 3]))


# --- rotation -------------------------------------------------------------------------------


@given(columns)
def test_rekey_equals_pseudonymising_from_scratch_with_the_new_key(
    values: list[str | None],
) -> None:
    column = pa.array(values, pa.string())
    old = PERSON.many(column)
    rekeyed = PERSON.rekey(old, NEW_KEY)
    assert rekeyed.to_pylist() == NEW_PERSON.many(column).to_pylist()
    before, after = old.to_pylist(), rekeyed.to_pylist()
    for i in range(len(values)):
        for j in range(len(values)):
            assert (before[i] == before[j]) == (after[i] == after[j])
    # twice in a row is the same as once straight to the last key, and the way back works
    assert (
        NEW_PERSON.rekey(rekeyed, NEWER_KEY).to_pylist() == PERSON.rekey(old, NEWER_KEY).to_pylist()
    )
    assert NEW_PERSON.rekey(rekeyed, KEY).to_pylist() == old.to_pylist()


def test_rekey_keeps_purposes_apart_and_types_intact() -> None:
    values = pa.array(emails(1_000) * 2 + [None], pa.large_string())
    customer = Pseudonymiser(KEY, "customer/inst-0001")
    person_new = PERSON.rekey(PERSON.many(values), NEW_KEY)
    customer_new = customer.rekey(customer.many(values), NEW_KEY)
    assert person_new.type == customer_new.type == pa.large_string()
    assert (
        customer_new.to_pylist()
        == Pseudonymiser(NEW_KEY, customer.purpose).many(values).to_pylist()
    )
    assert not set(person_new.drop_null().to_pylist()) & set(customer_new.drop_null().to_pylist())
    chunked = pa.chunked_array([PERSON.many(values)])
    assert PERSON.rekey(chunked, NEW_KEY).to_pylist() == person_new.to_pylist()


GOOD = PERSON.one("jan.jansen@example.nl")


@pytest.mark.parametrize(
    "bad",
    [
        "p1" + GOOD[2:],  # the earlier method: never mixed in
        GOOD.upper(),
        GOOD[:-1],
        GOOD + "a",
        GOOD[:-1] + "b",  # padding bits set: not what encode gives
        GOOD[:10] + "1" + GOOD[11:],  # not in the base32 alphabet
        GOOD[:10] + "ë" + GOOD[12:],
        "jan.jansen@example.nl",
        "",
    ],
)
def test_rekey_refuses_anything_that_is_not_a_p2_pseudonym(bad: str) -> None:
    with pytest.raises(PubliekError) as error:
        PERSON.rekey(pa.array([GOOD, bad, None]), NEW_KEY)
    assert error.value.code == "pseudonym-malformed"
    assert bad not in error.value.message("en") or not bad
    with pytest.raises(PubliekError):
        decode(bad)


# --- what shows -----------------------------------------------------------------------------


def test_the_repr_shows_purpose_and_fingerprint_but_no_key() -> None:
    text = repr(PERSON)
    assert text == (
        f"Pseudonymiser(purpose='person', fingerprint='{KEY.fingerprint}', generation=1)"
    )
    for secret in (KEY.secret.reveal(), KEY.derive("person").reveal()):
        assert secret.hex() not in text
        assert base64.b64encode(secret).decode() not in text
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(PERSON)


# --- G2: a dictionary attack without the key ------------------------------------------------


def dictionary_attack(
    stored: list[str], candidates: list[str], guesses: list[Callable[[str], str]]
) -> int:
    """How many candidates an attacker re-identifies by recomputing with every guessed method."""
    known = set(stored)
    return sum(any(guess(c) in known for guess in guesses) for c in candidates)


def test_g2_a_dictionary_attack_without_the_key_matches_nothing() -> None:
    candidates = emails(10_000)
    attacker_key = DeploymentKey.generate()
    guesses: list[Callable[[str], str]] = [
        lambda c: hashlib.sha256(c.encode()).hexdigest(),
        lambda c: encode(hashlib.sha256(c.encode()).digest()[:16]),
        lambda c: encode(identifier_digest(c)),  # the public, unkeyed half of the scheme
        Pseudonymiser(DeploymentKey(Secret(bytes(32))), "person").one,
        Pseudonymiser(attacker_key, "person").one,
        lambda c: encode(hmac.digest(b"", c.encode(), "sha256")[:16]),
    ]
    pseudonyms = PERSON.many(pa.array(candidates)).to_pylist()
    control = [hashlib.sha256(c.encode()).hexdigest() for c in candidates]

    assert dictionary_attack(control, candidates, guesses) == len(candidates)
    assert dictionary_attack(pseudonyms, candidates, guesses) == 0


_TEXTS = st.lists(st.one_of(st.none(), st.text(min_size=1)))


@given(_TEXTS)
def test_digests_computed_by_duckdb_give_the_same_pseudonyms(values: list[str | None]) -> None:
    person = Pseudonymiser(KEY, "person")
    data = pa.table({"v": pa.array(values, pa.string())})
    with duckdb.connect() as db:
        digests = db.from_arrow(data).query("data", f"SELECT {digest_sql('v')} FROM data")
        made = encoded(person.blocks_of_digests(digests.to_arrow_table().column(0)))
    assert made.to_pylist() == person.many(data["v"]).to_pylist()
    assert made.to_pylist() == [None if v is None else person.one(v) for v in values]


@pytest.mark.parametrize("digest", ["short", "g" * 64, "A" * 64, "a" * 65])
def test_a_digest_that_is_not_64_hexadecimal_characters_is_refused(digest: str) -> None:
    good = hashlib.sha256(b"").hexdigest()
    with pytest.raises(ValueError, match="64 hexadecimal"):
        Pseudonymiser(KEY, "person").blocks_of_digests(pa.array([good, None, digest]))


@given(_TEXTS)
def test_blocks_are_the_pseudonyms_without_their_text(values: list[str | None]) -> None:
    """Linkage keys are stored as blocks in two halves: the same values as the pseudonyms,
    read back without the key, and re-keyed to what the pseudonyms re-key to."""
    person = Pseudonymiser(KEY, "person")
    data = pa.table({"v": pa.array(values, pa.string())})
    with duckdb.connect() as db:
        digests = db.from_arrow(data).query("data", f"SELECT {digest_sql('v')} FROM data")
        blocks = person.blocks_of_digests(digests.to_arrow_table().column(0))
    pseudonyms = person.many(data["v"]).combine_chunks()
    assert blocks_of(pseudonyms).equals(blocks)
    present = blocks.drop_null()
    assert from_halves(*halves(present)).equals(present)
    assert halves(blocks.slice(1))[0].tolist() == halves(blocks)[0][1:].tolist()
    rekeyed = encoded(person.rekey_blocks(blocks, NEW_KEY)).to_pylist()
    assert rekeyed == person.rekey(pseudonyms, NEW_KEY).to_pylist()
