"""Secret references: parsing, resolution, the 0600 rule, masking, and never leaking the value."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
from pydantic import BaseModel

from hks_tui.secretref import SecretError, SecretRef, mask, resolve_secret

CANARY = "canary-5ecret-value-0123456789"


def test_parse_kinds(tmp_path: Path) -> None:
    assert SecretRef.parse("env:PVE_TOKEN").kind == "env"
    assert SecretRef.parse("env:PVE_TOKEN").target == "PVE_TOKEN"
    ref = SecretRef.parse("file:~/x")
    assert ref.kind == "file" and ref.target == str(Path("~/x").expanduser())
    assert SecretRef.parse("keyring:pve").kind == "keyring"
    assert str(SecretRef.parse(" env:A ")) == "env:A"


@pytest.mark.parametrize("text", ["hunter2", "", "env:", "vault:x", "env:BAD-NAME", "literal:abc"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(SecretError):
        SecretRef.parse(text)


def test_plain_secret_is_refused_with_guidance() -> None:
    with pytest.raises(SecretError, match=r"env:NAME, file:PATH or keyring:NAME"):
        SecretRef.parse(CANARY)


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKS_TEST_SECRET", CANARY)
    assert resolve_secret(SecretRef.parse("env:HKS_TEST_SECRET")) == CANARY
    assert resolve_secret("env:HKS_TEST_SECRET") == CANARY
    monkeypatch.delenv("HKS_TEST_SECRET")
    with pytest.raises(SecretError, match="HKS_TEST_SECRET is not set"):
        resolve_secret("env:HKS_TEST_SECRET")
    monkeypatch.setenv("HKS_TEST_SECRET", "")
    with pytest.raises(SecretError, match="is empty"):
        resolve_secret("env:HKS_TEST_SECRET")


def test_file_0600_is_read(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(CANARY + "\n")
    path.chmod(0o600)
    assert resolve_secret(f"file:{path}") == CANARY
    path.chmod(0o400)
    assert resolve_secret(f"file:{path}") == CANARY


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o610])
def test_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "token"
    path.write_text(CANARY)
    path.chmod(mode)
    with pytest.raises(SecretError) as info:
        resolve_secret(f"file:{path}")
    message = str(info.value)
    assert f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert CANARY not in message


def test_file_missing_empty_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="does not exist"):
        resolve_secret(f"file:{tmp_path / 'nope'}")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    empty.chmod(0o600)
    with pytest.raises(SecretError, match="is empty"):
        resolve_secret(f"file:{empty}")
    with pytest.raises(SecretError, match="not a regular file"):
        resolve_secret(f"file:{tmp_path}")


def test_keyring_absent_or_missing_entry_is_a_clear_error() -> None:
    try:
        import keyring  # noqa: F401
    except ImportError:
        with pytest.raises(SecretError, match=r"pip install 'hks-tui\[keyring\]'"):
            resolve_secret("keyring:hks-test-none")
    else:  # pragma: no cover - depends on the optional extra
        with pytest.raises(SecretError, match="keyring"):
            resolve_secret("keyring:hks-test-entry-that-does-not-exist")


def test_literal_is_masked_and_never_serialised() -> None:
    ref = SecretRef.literal(CANARY)
    assert resolve_secret(ref) == CANARY
    assert CANARY not in repr(ref) and CANARY not in str(ref)
    with pytest.raises(TypeError):
        pickle.dumps(ref)
    assert copy.deepcopy(ref) is ref

    class Holder(BaseModel):
        secret: SecretRef

    holder = Holder(secret=ref)
    assert CANARY not in holder.model_dump_json()
    assert CANARY not in repr(holder)
    assert CANARY not in str(holder.model_dump())
    with pytest.raises(ValueError):
        Holder.model_validate({"secret": CANARY})
    assert Holder.model_validate({"secret": "env:X"}).model_dump() == {"secret": "env:X"}


def test_equality_and_immutability() -> None:
    assert SecretRef.parse("env:A") == SecretRef.parse("env:A")
    assert SecretRef.parse("env:A") != SecretRef.parse("env:B")
    assert SecretRef.literal("x") != SecretRef.literal("x")
    with pytest.raises(AttributeError):
        SecretRef.parse("env:A").target = "B"  # type: ignore[misc]


def test_mask() -> None:
    assert mask("") == "(empty)"
    assert mask("short") == "****"
    assert mask(CANARY) == "****" + CANARY[-4:]
    assert CANARY not in mask(CANARY)
