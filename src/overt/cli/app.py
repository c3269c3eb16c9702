"""Entry point: ``overt`` (see ``overt --help``). Errors become one line and an exit code."""

from __future__ import annotations

import errno
import os
import sys

import click
import typer

from overt import __version__
from overt.cli import (
    alert_cmd,
    audit_cmd,
    calibrate,
    compare,
    demo,
    deployment_cmd,
    eval_cmd,
    evidence_cmd,
    faces,
    init_cmd,
    keys_cmd,
    models,
    public_cmd,
    purge_cmd,
    report_cmd,
    run_cmd,
    serve,
    user_cmd,
    watch,
    watchlist,
    watchlist_governed,
    worker_cmd,
)
from overt.cli._common import CliState
from overt.errors import OvertError

app = typer.Typer(
    name="overt",
    help="Overt: live facial recognition with its safeguards built in.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"overt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", envvar="OVERT_CONFIG", help="TOML config file."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    ctx.obj = CliState(config_path=config)


demo.register(app)
faces.register(app)
compare.register(app)
models.register(app)
watchlist.register(app)
watch.register(app)
app.add_typer(eval_cmd.app, name="eval")
calibrate.register(app)
init_cmd.register(app)
app.add_typer(user_cmd.app, name="user")
app.add_typer(deployment_cmd.app, name="deployment")
watchlist_governed.register_governed(watchlist.app)
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(alert_cmd.app, name="alert")
app.add_typer(evidence_cmd.app, name="evidence")
app.add_typer(keys_cmd.app, name="keys")
purge_cmd.register(app)
report_cmd.register(app)
serve.register(app)
run_cmd.register(app)
public_cmd.register(app)
worker_cmd.register(app)

# typer >= 0.20 vendors its own copy of click: catch that copy's exceptions as well as click's.
_USAGE_ERRORS: tuple[type[Exception], ...] = (click.ClickException,)
_EXITS: tuple[type[Exception], ...] = (click.exceptions.Exit, typer.Exit)
_ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort)
try:
    from typer._click import exceptions as _typer_click

    _USAGE_ERRORS += (_typer_click.ClickException,)
except ImportError:  # older typer uses click itself
    pass


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (``sys.exit`` in ``__main__``)."""
    err = sys.stderr
    try:
        rv = app(args=argv, prog_name="overt", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except _EXITS as exc:
        return int(getattr(exc, "exit_code", 0))
    except _USAGE_ERRORS as exc:  # one line, like every other error
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        err.write(f"overt: error: {message} (see overt --help)\n")
        return int(getattr(exc, "exit_code", 2))
    except _ABORTS:
        err.write("overt: aborted\n")
        return 130
    except KeyboardInterrupt:
        err.write("overt: interrupted\n")
        return 130
    except OvertError as exc:
        err.write(f"overt: error: {exc}\n")
        return exc.exit_code
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            err.write("overt: error: no space left on device\n")
        else:
            err.write(f"overt: error: {exc}\n")
        return 74
    except Exception as exc:  # never a traceback for users; OVERT_DEBUG=1 shows it
        if os.environ.get("OVERT_DEBUG"):
            raise
        err.write(f"overt: internal error: {exc.__class__.__name__}: {exc} (set OVERT_DEBUG=1 for details)\n")
        return 70


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
