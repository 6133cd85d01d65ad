"""The router's secret key, what derives from it, and the check that it has not changed silently.

One root key: `EVENT_ROUTER_SECRET_KEY`, else the home's `secret_key` file (created on first use).
Derived from it:

- anonymous learner ids (an HMAC keyed with it) and so every statement id that names a learner;
- web sessions;
- the key that encrypts consumers' secrets in the control plane (HKDF-SHA256, Fernet);
- its fingerprint (HKDF too, one-way): `secret_key.id` in the home records the fingerprint of the
  key the home has been used with, and each encrypted secret carries it.

A different key changes every anonymous id the LMS did not supply, so an LRS would see new actors
and new statement ids (no de-duplication of replays). Hence `resolve` refuses a key whose
fingerprint differs from the recorded one unless the operator accepts it (`run
--accept-new-secret-key`, or `event-router secret-key accept`), which records the new fingerprint.
Encrypted secrets are bound to the key they were written with, so a new key must come with
`event-router secret-key rotate`, which re-encrypts every consumer's secrets in one transaction;
accepting a new key without rotating leaves secrets the router cannot read (it says so).
Deriving the encryption key rather than keeping a separate one means routers sharing a PostgreSQL
control plane need nothing beyond the one shared EVENT_ROUTER_SECRET_KEY.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from event_router.home import open_private, private_dir, tighten

KEY_FILE = "secret_key"
ID_FILE = "secret_key.id"
NEW_KEY_FILE = "secret_key.new"  # a rotation under way (see cli/secret_key.py)


class SecretKeyMismatch(Exception):
    """The key differs from the one the home was used with; the message says what changes."""


def derive(key: str, purpose: str) -> bytes:
    """32 bytes for one purpose; a different purpose gives an unrelated value."""
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return kdf.derive(key.encode())


def fingerprint(key: str) -> str:
    """A short one-way name for the key, safe to store and to show."""
    return derive(key, "event-router key fingerprint").hex()[:16]


def encryption_key(key: str) -> bytes:
    """The Fernet key that encrypts consumers' secrets."""
    return base64.urlsafe_b64encode(derive(key, "event-router consumer secrets v1"))


def new_key() -> str:
    return secrets.token_urlsafe(32)


def resolve(home: Path, env_key: str | None, accept_new: bool = False) -> str:
    """The secret key to use, after making the home private and checking it against the record.

    SecretKeyMismatch if the key's fingerprint differs from the recorded one and `accept_new` is
    false; with `accept_new` the new fingerprint is recorded.
    """
    private_dir(home)
    tighten(home)
    file_key = _read(home / KEY_FILE)
    recorded = _read(home / ID_FILE) or (fingerprint(file_key) if file_key else None)
    if not env_key and not file_key and recorded and not accept_new:
        raise SecretKeyMismatch(
            f"this home was used with EVENT_ROUTER_SECRET_KEY (fingerprint {recorded}) and has "
            "no key file: set EVENT_ROUTER_SECRET_KEY to that key (a new key would change every "
            "anonymous learner id not imported from the LMS, and the statement ids with them)"
        )
    key = env_key or file_key or _create(home / KEY_FILE)
    current = fingerprint(key)
    if recorded is not None and recorded != current and not accept_new:
        raise SecretKeyMismatch(mismatch_message(home, env_key is not None, recorded, current))
    if recorded != current or not (home / ID_FILE).exists():
        record(home, key)
    return key


def mismatch_message(home: Path, from_env: bool, recorded: str, current: str) -> str:
    source = "EVENT_ROUTER_SECRET_KEY" if from_env else f"the key file {home / KEY_FILE}"
    return (
        f"the secret key ({source}, fingerprint {current}) is not the one this home was used with "
        f"(fingerprint {recorded}). A new key changes every anonymous learner id not imported "
        "from the LMS, and so the statement ids the LRS de-duplicates on, and it cannot read the "
        "consumers' stored secrets. Use the recorded key (after `secret-key rotate`, the new "
        "one); or, to change the key on purpose, "
        "use `event-router secret-key rotate`; or accept this key as it is with "
        "`event-router run --accept-new-secret-key` (or `event-router secret-key accept`)."
    )


def record(home: Path, key: str) -> None:
    """Record the key's fingerprint in the home (written aside, then renamed into place)."""
    write_private(home / ID_FILE, fingerprint(key) + "\n")


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text`, 0600, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _read(path: Path) -> str | None:
    with contextlib.suppress(FileNotFoundError):
        return path.read_text(encoding="utf-8").strip() or None
    return None


def _create(path: Path) -> str:
    """A new key in `path`; if another process won the race, its key."""
    # Write aside, then link into place: link fails if another process won the race, and a reader
    # never sees a half-written key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(new_key() + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()
