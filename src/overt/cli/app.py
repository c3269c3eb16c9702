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
    compare,
    demo,
    deployment_cmd,
    eval_cmd,
    faces,
    init_cmd,
    keys_cmd,
    models,
    purge_cmd,
    report_cmd,
    run_cmd,
    serve,
    user_cmd,
    watch,
    watchlist,
    watchlist_governed,
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
watch.register(app)
app.add_typer(eval_cmd.app, name="eval")
init_cmd.register(app)
app.add_typer(user_cmd.app, name="user")
app.add_typer(deployment_cmd.app, name="deployment")
# one 'watchlist' group: the governed commands plus the pipeline's folder enrolment ('watchlist enrol')
watchlist_governed.app.command("enrol")(watchlist.enrol_cmd)
app.add_typer(watchlist_governed.app, name="watchlist")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(alert_cmd.app, name="alert")
app.add_typer(keys_cmd.app, name="keys")
purge_cmd.register(app)
report_cmd.register(app)
serve.register(app)
run_cmd.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising (``sys.exit`` in ``__main__``)."""
    err = sys.stderr
    try:
        rv = app(args=argv, prog_name="overt", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show(file=err)
        return exc.exit_code
    except click.exceptions.Abort:
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
