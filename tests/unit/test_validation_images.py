"""Image references and Git URLs."""

from __future__ import annotations

import pytest

from hks_tui.validation import (
    ImageReference,
    ValidationProblem,
    parse_image_reference,
    validate_git_url,
    validate_image,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", ImageReference(None, "nginx", None, None)),
        ("nginx:1.27.3", ImageReference(None, "nginx", "1.27.3", None)),
        ("library/nginx:latest", ImageReference(None, "library/nginx", "latest", None)),
        ("ghcr.io/acme/checkout-api:1.8.0", ImageReference("ghcr.io", "acme/checkout-api", "1.8.0", None)),
        ("localhost:5000/app", ImageReference("localhost:5000", "app", None, None)),
        (
            "registry.local:5000/team/app:v1@" + DIGEST,
            ImageReference("registry.local:5000", "team/app", "v1", DIGEST),
        ),
        ("app@" + DIGEST, ImageReference(None, "app", None, DIGEST)),
        ("a__b/c.d-e---f", ImageReference(None, "a__b/c.d-e---f", None, None)),
        ("[::1]:5000/x", ImageReference("[::1]:5000", "x", None, None)),
    ],
)
def test_valid_images(text: str, expected: ImageReference) -> None:
    assert parse_image_reference(text) == expected
    assert str(expected) == text
    assert validate_image(f" {text} ") == text


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("acme/Checkout", "image"),
        ("nginx:", "image-tag"),
        ("nginx:-bad", "image-tag"),
        ("nginx:" + "a" * 129, "image-tag"),
        ("nginx@sha256:abc", "image-digest"),
        ("nginx@sha256:" + "a" * 63, "image-digest"),
        ("ngi nx", "image"),
        ("-nginx", "image"),
        ("a//b", "image"),
        ("a_-b", "image"),
        ("my_registry.io/x", "image-registry"),
        ("https://ghcr.io/x", "image-registry"),
        ("a" * 256, "image-length"),
    ],
)
def test_invalid_images(text: str, rule: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        parse_image_reference(text)
    assert info.value.rule == rule


def test_uppercase_path_hint() -> None:
    with pytest.raises(ValidationProblem, match="lower-case"):
        validate_image("ghcr.io/Acme/app:1")


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/app.git",
        "https://git.example.com:8443/team/app",
        "ssh://git@github.com/acme/app.git",
        "ssh://git@git.example.com:2222/acme/app.git",
        "git@github.com:acme/app.git",
    ],
)
def test_valid_git_urls(url: str) -> None:
    assert validate_git_url(url) == url


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://user:ghp_secret@github.com/acme/app.git", "git-url-credentials"),
        ("https://ghp_token@github.com/acme/app.git", "git-url-credentials"),
        ("ssh://git:pw@github.com/acme/app.git", "git-url-credentials"),
        ("http://github.com/acme/app.git", "git-url-scheme"),
        ("file:///srv/repo.git", "git-url-scheme"),
        ("/srv/repo.git", "git-url-scheme"),
        ("https://github.com/", "git-url"),
        ("https://github.com/a/b?x=1", "git-url"),
        ("https://github.com:99999/a/b", "git-url"),
        ("git@github.com:", "git-url-scheme"),
    ],
)
def test_invalid_git_urls(url: str, rule: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_git_url(url)
    assert info.value.rule == rule
    if rule == "git-url-credentials":
        assert "Secret" in info.value.message
        assert "secret" not in str(info.value.value) and "token" not in str(info.value.value)
