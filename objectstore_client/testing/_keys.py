"""Ed25519 key pairs for tests: sign tokens with the private half, configure the public half."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    """An Ed25519 key pair in PEM form."""

    private_pem: str
    """PKCS#8 `PRIVATE KEY` PEM, what `TokenGenerator(kid, secret_key=...)` takes."""

    public_pem: str
    """SubjectPublicKeyInfo `PUBLIC KEY` PEM, what the server's `key_files` contain."""


def generate_keypair() -> KeyPair:
    """Generates a fresh Ed25519 key pair."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return KeyPair(private_pem=private_pem, public_pem=public_pem)
