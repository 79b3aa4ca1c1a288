"""The twin's development key pairs, so the twin connections use key-pair auth as real Snowflake does.

Snowflake's recommended service-account auth is an RSA key pair; the Snowpipe REST API accepts
nothing else. The twin connection therefore names a private key file (``private_key_file``) and
its passphrase (the connection password), exactly as a production connection does. The twin
accepts any credentials, so this key guards nothing: it is generated on first start under the
twin's state folder and never leaves the machine. The admin's connection (user SNOWSEG_ADMIN, for the setup step)
has a key of its own, ``admin_rsa_key.p8``, with the same passphrase; the twin provisions both users with these
keys' public halves (``extensions._account_catalog``).
"""

from __future__ import annotations

from pathlib import Path

# Not a secret: the twin accepts any login. It is the passphrase of a throwaway local key.
DEV_KEY_PASSPHRASE = "local-twin-no-secret"


def key_path(home: Path) -> Path:
    """Where the twin's private key lives (PKCS#8 PEM, encrypted with DEV_KEY_PASSPHRASE)."""
    return Path(home).resolve() / "keys" / "rsa_key.p8"


def admin_key_path(home: Path) -> Path:
    """Where the admin connection's private key lives (PKCS#8 PEM, encrypted with DEV_KEY_PASSPHRASE)."""
    return Path(home).resolve() / "keys" / "admin_rsa_key.p8"


def public_key(path: Path) -> str:
    """The base64 DER body of a private key file's public key, as CREATE USER ... RSA_PUBLIC_KEY takes it."""
    import base64

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(Path(path).read_bytes(), DEV_KEY_PASSPHRASE.encode())
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def ensure_key(home: Path, path: Path | None = None) -> Path:
    """Generate a key pair (default: the twin's, at key_path) if it does not exist yet; return the private key's path."""
    path = path or key_path(home)
    if path.exists() and path.stat().st_size > 0:
        return path
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(DEV_KEY_PASSPHRASE.encode()),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
