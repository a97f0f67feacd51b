"""`catalog` command (the image's entrypoint): `serve` (default), `migrate`, `seed --products N`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from catalog.settings import SettingsError, load_settings


async def _migrate() -> list[str]:
    from catalog.db import connect
    from catalog.migrate import migrate

    settings = load_settings()
    conn = await connect(settings)
    try:
        return await migrate(conn, app_user=settings.database_app_user)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="catalog", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "seed"])
    args, rest = parser.parse_known_args(argv)
    # Subcommands import what they need only: a bad setting is reported before the web stack loads.
    if args.command == "seed":
        from catalog import seed

        return seed.main(rest)
    if rest:
        parser.error(f"unexpected arguments: {' '.join(rest)}")
    if args.command == "migrate":
        from catalog.jsonlog import configure_logging

        configure_logging("INFO")
        try:
            applied = asyncio.run(_migrate())
        except SettingsError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(json.dumps({"applied": applied}))
        return 0
    from catalog import server

    return server.main()


if __name__ == "__main__":
    sys.exit(main())
