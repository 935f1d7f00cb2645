"""`config/envfile.py`, which `make run` runs first: a new .env gets fresh keys, an existing one
keeps its settings and gains only the keys it lacks, and the VAPID key is a P-256 key."""

import base64

from cryptography.hazmat.primitives.asymmetric import ec

from config import envfile

EXAMPLE = "# comment\nSECRET_KEY_DJANGO_SETTINGS=\nDEBUG=True\nVAPID_PRIVATE_KEY=\n"


def values(text: str) -> dict:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_a_new_env_gets_both_keys(tmp_path, capsys):
    (tmp_path / ".env.example").write_text(EXAMPLE)
    envfile.main(str(tmp_path / ".env"), str(tmp_path / ".env.example"))
    written = values((tmp_path / ".env").read_text())
    assert len(written["SECRET_KEY_DJANGO_SETTINGS"]) >= 50
    assert written["DEBUG"] == "True"
    raw = base64.urlsafe_b64decode(written["VAPID_PRIVATE_KEY"] + "=")
    assert len(raw) == 32
    ec.derive_private_key(int.from_bytes(raw), ec.SECP256R1())  # a valid private key
    assert "Wrote" in capsys.readouterr().out


def test_an_existing_env_keeps_its_settings_and_gains_what_it_lacks(tmp_path, capsys):
    env = tmp_path / ".env"
    env.write_text("SECRET_KEY_DJANGO_SETTINGS=mine\nDEBUG=False\n")
    envfile.main(str(env), str(tmp_path / "absent.example"))
    written = values(env.read_text())
    assert (written["SECRET_KEY_DJANGO_SETTINGS"], written["DEBUG"]) == ("mine", "False")
    assert written["VAPID_PRIVATE_KEY"]
    assert "Added VAPID_PRIVATE_KEY" in capsys.readouterr().out
    before = env.read_text()
    envfile.main(str(env), str(tmp_path / "absent.example"))
    assert env.read_text() == before  # complete: left alone, and nothing said
    assert capsys.readouterr().out == ""


def test_keys_differ_each_time():
    assert envfile.vapid_private_key() != envfile.vapid_private_key()
