"""Write `.env` from `.env.example`, or complete an existing one, with newly generated keys.

`make run`, `make serve` and `make migrate` call it before anything else, with the system's
Python (the virtualenv may not exist yet): the standard library only. It fills in, where they are
missing or empty, the Django secret key and the VAPID private key of Web Push; everything else in
an existing `.env` stays as its owner left it.
"""

import re
import secrets
import sys
from base64 import urlsafe_b64encode
from pathlib import Path

# The order of P-256's base point: a private key is a number from 1 to ORDER - 1.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def vapid_private_key() -> str:
    """A P-256 private key as base64url of its 32 bytes (py_vapid's `Vapid02.from_raw` form)."""
    while True:
        number = secrets.randbits(256)
        if 0 < number < P256_ORDER:
            return urlsafe_b64encode(number.to_bytes(32, "big")).rstrip(b"=").decode()


GENERATED = {
    "SECRET_KEY_DJANGO_SETTINGS": lambda: secrets.token_urlsafe(50),
    "VAPID_PRIVATE_KEY": vapid_private_key,
}


def complete(text: str) -> tuple[str, list[str]]:
    """`text` with each generated variable given a value where it is empty or absent, and the
    names of those filled in."""
    filled = []
    for name, generate in GENERATED.items():
        line = re.compile(rf"^{name}=[ \t]*$", re.MULTILINE)
        if line.search(text):
            text = line.sub(f"{name}={generate()}", text, count=1)
        elif not re.search(rf"^{name}=", text, re.MULTILINE):
            text = text.rstrip("\n") + f"\n{name}={generate()}\n"
        else:
            continue
        filled.append(name)
    return text, filled


def main(env_path: str = ".env", example_path: str = ".env.example") -> None:
    env, example = Path(env_path), Path(example_path)
    existed = env.exists()
    text, filled = complete(env.read_text() if existed else example.read_text())
    if existed and not filled:
        return
    env.write_text(text)
    if existed:
        print(f"Added {' and '.join(filled)} to {env} (the other settings are as they were).")
    else:
        print(f"Wrote {env} with new keys (edit it to change settings).")


if __name__ == "__main__":
    main(*sys.argv[1:])
