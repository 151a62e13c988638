"""``python -m acd.sim``: the what-if simulation without the rest of the CLI."""

from __future__ import annotations

import typer

from acd.sim.cli import simulate


def main() -> None:
    app = typer.Typer(add_completion=False)
    app.command()(simulate)
    app()


if __name__ == "__main__":
    main()
