"""``oppcore db upgrade``: create or upgrade the SQL store's tables in a database."""

import argparse
import sys

from oppcore.locale._catalog import _

from ._common import UsageError


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the migrations the database at ``--url`` lacks; print the version now."""
    try:
        import sqlalchemy as sa

        from oppcore.storage.sql import upgrade
    except ImportError as exc:
        raise UsageError(f"{exc}: pip install 'oppcore[sql]'") from None
    try:
        engine = sa.create_engine(args.url)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        raise UsageError(_("cannot use --url {url!r}: {error}").format(url=args.url,
                                                                         error=exc)) from None
    try:
        version = upgrade(engine, schema=args.schema, table_prefix=args.table_prefix)
    finally:
        engine.dispose()
    where = engine.url.render_as_string(hide_password=True)
    print(_("{where}: oppcore tables at schema version {version}").format(
        where=where, version=version), file=sys.stdout)
    return 0
