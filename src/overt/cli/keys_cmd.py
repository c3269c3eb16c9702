"""``overt keys rotate``: new key-encryption key; data keys re-wrapped, data untouched."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, open_store
from overt.crypto.keys import EnvKeyStore, KdfParams, PassphraseKeyStore, passphrase_from_env
from overt.domain.users import Permission
from overt.store.datadir import EnvKeySource, PassphraseKeySource, load_config, rotate_data_dir_key, write_config

app = typer.Typer(help="Encryption keys.", no_args_is_help=True)


@app.command("rotate")
def rotate_cmd(
    new_key_var: str = typer.Option(
        "OVERT_NEW_KEK", "--new-key-var", help="env source: variable holding the new key (base64)."
    ),
    new_passphrase_var: str = typer.Option(
        "OVERT_NEW_PASSPHRASE", "--new-passphrase-var", help="passphrase source: variable with the new passphrase."
    ),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Rotate the KEK (file source: a new key file; env/passphrase: the new one from env)."""
    store, d = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    actor.require(Permission.MAINTAIN)
    cfg = load_config(d)
    t0 = time.perf_counter()
    if isinstance(cfg.key, EnvKeySource):
        new = EnvKeyStore(new_key_var).load_kek()
        n = rotate_data_dir_key(store, d, actor=actor.name, new_kek=new)
        note = f"now set {cfg.key.var} to the value of {new_key_var}"
    elif isinstance(cfg.key, PassphraseKeySource):
        params = KdfParams.new(
            time_cost=int(cfg.key.kdf["time_cost"]), memory_cost_kib=int(cfg.key.kdf["memory_cost_kib"])
        )
        new = PassphraseKeyStore(params, passphrase_from_env(new_passphrase_var)).load_kek()
        new_cfg = cfg.model_copy(update={"key": PassphraseKeySource(var=cfg.key.var, kdf=params.to_json())})
        n = rotate_data_dir_key(store, d, actor=actor.name, new_kek=new, after=lambda: write_config(d, new_cfg))
        note = f"now use the new passphrase (in {cfg.key.var})"
    else:
        n = rotate_data_dir_key(store, d, actor=actor.name)
        note = "key file replaced"
    elapsed = time.perf_counter() - t0
    if as_json:
        print_json({"rewrapped_keys": n, "seconds": round(elapsed, 4), "note": note})
    else:
        out_console().print(f"{n} data keys re-wrapped under the new key in {elapsed:.3f} s; {note}")


@app.command("signing")
def signing_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """This node's evidence-signing public key and fingerprint (created on first use, audited).

    Register the public key with this edge node's device token at the centre
    (``signing_public_key_b64``); compare the fingerprint with exported evidence bundles."""
    from overt.alerts.ingest_evidence import node_key

    store, _ = open_store(data_dir_, database_url)
    key = node_key(store)
    pub = base64.b64encode(key.public_key).decode("ascii")
    if as_json:
        print_json({"public_key_b64": pub, "fingerprint": key.fingerprint})
    else:
        out_console().print(f"public key (Ed25519, base64): {pub}\nfingerprint (SHA-256): {key.fingerprint}")
