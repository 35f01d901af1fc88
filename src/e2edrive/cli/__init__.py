"""The `e2edrive` command line: one typer app, each subcommand a thin call into the packages (the commands live
in this package's modules, one per stage).

Defaults come from the config dataclasses (one place for each). Every import of a package that an install
extra provides (torch, highway-env, ...) happens inside the command that needs it, so the runtime-only install
runs `e2edrive drive`. `main()` turns user errors into one line and exit code 2; a traceback means a bug
(`--debug` shows one for every error).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer
from rich.console import Console

from e2edrive.core.errors import UserError

app = typer.Typer(
    help="e2edrive: fleet video → end-to-end driver → closed-loop score → ONNX. "
    "Add --debug anywhere for a traceback on any error.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="The data engine: check, index, query, build, ingest and export clips.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
console = Console()

EXTRAS = {
    "torch": "train",
    "safetensors": "train",
    "onnx": "train",
    "tensorboard": "train",
    "highway_env": "sim",
    "gymnasium": "sim",
    "panda3d": "sim",
    "duckdb": "data",
    "matplotlib": "report",
    "ray": "ray",
}
"""Top-level module → the install extra that provides it (pyproject.toml)."""


def set_option() -> typer.models.OptionInfo:
    return typer.Option(None, "--set", help="highway-env config override KEY=VALUE (repeatable), type-checked.")


def _missing_extra(exc: ModuleNotFoundError) -> str | None:
    """'needs the X extra' for a module an install extra provides; None for any other missing module."""
    root = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(root)
    if extra is None:
        return None
    return f"this command needs {root}, from the '{extra}' extra: pip install 'e2edrive[{extra}]'"


def _fail(message: str, hint: str | None = None) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"error: {message}", markup=False)
    if hint:
        err.print(hint, markup=False)


def main(argv: list[str] | None = None) -> None:
    """The console entry point: user errors → one line on stderr and exit code 2, bugs → traceback, exit 1."""
    from typer._click.exceptions import ClickException

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("E2EDRIVE_DEBUG") == "1"
    args = [a for a in args if a != "--debug"]
    command = typer.main.get_command(app)
    try:
        code = command.main(args, prog_name="e2edrive", standalone_mode=False)
    except ClickException as exc:  # bad option, missing argument, wrong type: typer's own usage errors
        ctx = getattr(exc, "ctx", None)
        hint = f"Try '{ctx.command_path} --help'." if ctx is not None else None
        _fail(exc.format_message(), hint)
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        _fail("aborted")
        code = 130
    except (UserError, FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        if debug:
            traceback.print_exc()
        _fail(str(exc))
        code = 2
    except ModuleNotFoundError as exc:
        hint = _missing_extra(exc)
        if hint is None or debug:
            raise
        _fail(hint)
        code = 2
    sys.exit(code if isinstance(code, int) else 0)


# the commands, registered in this order (help lists them so)
from e2edrive.cli import loop, runtime, info, demo, data, bench  # noqa: E402, F401, I001
