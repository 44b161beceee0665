"""`storelink serve | migrate | create-admin | seed-demo | worker | export-schema | train-recommender |
eval-recommender`."""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from storelink import db, phone_cipher, process
from storelink.logs import configure_logging
from storelink.progress import Steps
from storelink.settings import Settings

log = logging.getLogger("storelink")

DEMO_SANDBOX_SECRET = "demo-sandbox-secret"


# Only the server signs tokens; every other command may run without JWT_SECRET (a throwaway key
# satisfies the settings and signs nothing).
_SIGNS_TOKENS = {"serve"}


def _settings(command: str) -> Settings:
    overrides: dict[str, Any] = {}
    if command not in _SIGNS_TOKENS and not os.environ.get("JWT_SECRET"):
        import secrets

        overrides["jwt_secret"] = secrets.token_urlsafe(48)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        sys.exit(f"storelink: configuration error: {first['msg'].removeprefix('Value error, ')}")
    phone_cipher.configure(settings)
    return settings


async def _with_session(settings: Settings, work):
    from storelink import migrate

    # Commands that write data bring the schema up to date first, as `serve` does.
    await asyncio.to_thread(migrate.upgrade, db.database_url(settings))
    engine = db.create_engine(db.database_url(settings), pool_size=2, max_overflow=0)
    try:
        return await db.transaction(db.create_sessionmaker(engine), work)
    finally:
        await engine.dispose()


def cmd_migrate(args, settings: Settings) -> None:
    from storelink import migrate

    migrate.upgrade(db.database_url(settings))
    print("database is at the latest migration")


def cmd_create_admin(args, settings: Settings) -> None:
    from storelink.flows import staffing
    from storelink.errors import DomainError

    async def work(session):
        return await staffing.hire(
            session, actor=None, username=args.username, password=args.password,
            name=args.name or args.username, role="HQ_ADMIN", store_id=None,
        )

    try:
        staff = asyncio.run(_with_session(settings, work))
    except DomainError as exc:
        sys.exit(f"storelink: {exc.code}: {exc.message}")
    print(f"HQ admin {staff.username!r} created")


def cmd_seed_demo(args, settings: Settings) -> None:
    from storelink import demo

    with Steps(demo.SEED_STEPS, "seeding the demo") as steps:
        created = asyncio.run(_with_session(settings, lambda session: demo.seed_demo(session, steps)))
    print("demo brand created" if created else "demo brand already present")
    print(f"sign in as '{demo.HQ_USERNAME}', '<store>-manager' or '<store>-guide1' "
          f"(e.g. sh-njw-guide1) with password '{demo.DEMO_PASSWORD}'")
    for store_code, join_code in asyncio.run(_with_session(settings, demo.printable_codes)):
        print(f"  {store_code}: {settings.public_base_url.rstrip('/')}/qr/{join_code}.png")


def cmd_export_schema(args, settings: Settings | None) -> None:
    from storelink.api.schema import schema_sdl

    sdl = schema_sdl()
    if args.check:
        current = Path(args.output).read_text() if Path(args.output).exists() else ""
        if current != sdl:
            sys.exit(f"{args.output} is stale: run `storelink export-schema`")
        print(f"{args.output} is up to date")
        return
    Path(args.output).write_text(sdl)
    print(f"wrote {args.output}")


def cmd_serve(args, settings: Settings) -> None:
    import uvicorn

    from storelink import migrate
    from storelink.app import create_app

    if "public_base_url" not in settings.model_fields_set:
        # QR links and pickup links must reach this server: its own port, not the default's.
        host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
        settings = settings.model_copy(update={"public_base_url": f"http://{host}:{args.port}"})
    migrate.upgrade(db.database_url(settings))
    fake = None
    if args.demo:
        settings = settings.model_copy(update={"demo": True})
        cmd_seed_demo(args, settings)
        if not settings.wechat_configured:
            # No mini-program credentials: log customers in against our fake WeChat on loopback.
            from storelink.wechat.fake import FakeWeChatServer

            fake = FakeWeChatServer().start()
            settings = settings.model_copy(update={
                "wechat_api_base": fake.base_url,
                "wechat_appid": fake.fake.appid,
                "wechat_secret": fake.fake.secret,
            })
            print(f"demo: WeChat calls go to the fake server at {fake.base_url}; any login code works")
        if not (settings.payment_sandbox_secret or settings.wechatpay_configured):
            # Checkout needs a payment provider: the sandbox, with a key the demo prints.
            settings = settings.model_copy(update={"payment_sandbox_secret": DEMO_SANDBOX_SECRET})
            print(f"demo: payments use the sandbox provider; sign notifications with '{DEMO_SANDBOX_SECRET}'")
        if settings.payment_sandbox_secret:
            print(f"demo: POST {settings.public_base_url.rstrip('/')}/demo/pay/<orderNo> pays an order")
    jobs = None
    try:
        if args.workers > 1:
            # Several server processes, each building its app from the environment: what was
            # decided here goes there as environment variables. The background jobs run once,
            # in a `storelink worker` process beside them (unless --no-worker).
            os.environ.update({name.upper(): str(getattr(settings, name)) for name in _PASSED_ON
                               if getattr(settings, name) is not None})
            if not args.no_worker:
                jobs = subprocess.Popen([sys.executable, "-m", "storelink", "worker"])
            uvicorn.run("storelink.app:app_from_environment", factory=True, workers=args.workers,
                        host=args.host, port=args.port, log_config=None, proxy_headers=True)
        else:
            uvicorn.run(create_app(settings, worker=not args.no_worker), host=args.host, port=args.port,
                        log_config=None, proxy_headers=True)
    finally:
        if jobs:
            jobs.terminate()
            jobs.wait(30)
        if fake:
            fake.stop()


# Settings `serve` may decide (the demo's fake WeChat and sandbox, the port's links, the embedded
# database) that its server processes must see too.
_PASSED_ON = ("public_base_url", "wechat_api_base", "wechat_appid", "wechat_secret", "payment_sandbox_secret",
              "storelink_embedded_db", "demo")


def cmd_worker(args, settings: Settings) -> None:
    """The outbox worker on its own (serve runs one too; several may run at once)."""
    from storelink import migrate
    from storelink.app import build_wechat, outbound_http
    from storelink import worker

    migrate.upgrade(db.database_url(settings))

    async def run():
        # SIGTERM or Ctrl-C: the round in hand finishes, then the loop ends and closes its
        # connections. (Raised as SystemExit in the middle of a round, it could land inside a
        # connection's protocol handling, and closing that connection then waited for ever.)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        engine = db.create_engine(db.database_url(settings), pool_size=2, max_overflow=2)
        async with outbound_http(settings) as http:
            try:
                await worker.run(db.create_sessionmaker(engine), build_wechat(http, settings), settings=settings,
                                 http=http, stop=stop)
            finally:
                await engine.dispose()

    asyncio.run(run())


def _with_sessionmaker(settings: Settings, work):
    from storelink import migrate

    async def run():
        await asyncio.to_thread(migrate.upgrade, db.database_url(settings))
        engine = db.create_engine(db.database_url(settings), pool_size=2, max_overflow=2)
        try:
            return await work(db.create_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def cmd_train_recommender(args, settings: Settings) -> None:
    from storelink.recommend import train

    try:
        with Steps(train.TRAIN_STEPS, "training") as steps:
            row = _with_sessionmaker(settings, lambda sessionmaker: train.train(
                sessionmaker, advance=steps, window_days=settings.recommender_window_days,
                min_orders=settings.recommender_min_orders))
    except train.TrainingTooSmall as refused:
        print(f"storelink: {refused}", file=sys.stderr)
        raise SystemExit(1)
    print(f"recommender trained from {row.orders} orders and {row.products} products "
          f"(last {row.window_days} days): {row.pairs} neighbour pairs in {row.seconds:.1f} s; weights {row.weights}")


def cmd_eval_recommender(args, settings: Settings) -> None:
    from storelink.recommend import evaluate

    async def work(sessionmaker):
        async with sessionmaker() as session:
            return await evaluate.evaluate(session, test_share=args.test_share,
                                           window_days=settings.recommender_window_days,
                                           members=args.members, progress=sys.stderr.isatty())

    report = _with_sessionmaker(settings, work)
    print(evaluate.describe(report))


def cmd_rotate_phone_key(args, settings: Settings) -> None:
    from storelink.accounts import phone_rotation

    count = _with_sessionmaker(settings, phone_rotation.rotate)
    print(f"{count} phone numbers re-sealed under key {phone_cipher.keyring().current.id}; "
          "the old keys can now leave PHONE_ENCRYPTION_OLD_KEYS")


def cmd_import(args, settings: Settings) -> None:
    from storelink.bulk import runner
    from storelink.bulk.kinds import KINDS

    async def work(sessionmaker):
        return await runner.run_import(sessionmaker, KINDS[args.kind], Path(args.file), settings=settings,
                                       dry_run=args.dry_run, encoding=args.encoding, progress=sys.stderr.isatty())

    if not Path(args.file).is_file():
        sys.exit(f"storelink: {args.file}: no such file")
    report = _with_sessionmaker(settings, work)
    print(runner.describe(report, dry_run=args.dry_run))
    if report.problem_count:
        sys.exit(1)


def cmd_export(args, settings: Settings) -> None:
    from storelink.bulk import runner
    from storelink.bulk.kinds import KINDS

    async def work(sessionmaker):
        return await runner.run_export(sessionmaker, KINDS[args.kind], Path(args.file), settings=settings,
                                       progress=sys.stderr.isatty())

    count = _with_sessionmaker(settings, work)
    print(f"{args.kind}: {count} rows written to {args.file}")


def cmd_trust_documents(args, settings: Settings) -> None:
    from storelink.api.schema import build_schema
    from storelink.documents import service

    path = Path(args.file)
    if not path.is_file():
        sys.exit(f"storelink: {args.file}: no such file")
    try:
        documents = service.read_manifest(path.read_text(encoding="utf-8"))
        service.check_against(build_schema(debug=True)._schema, documents)
        new, known = asyncio.run(_with_session(settings, lambda session: service.trust(session, documents)))
    except (service.BadManifest, UnicodeDecodeError) as exc:
        sys.exit(f"storelink: {args.file}: {exc}; nothing was loaded")
    print(f"{new} documents trusted, {known} already trusted")


def _is_unreachable(exc: BaseException) -> bool:
    """Refused, unknown host, timed out, or turned away at login: an operator's problem to fix."""
    import asyncpg

    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    cause = getattr(cause, "__cause__", None) or cause
    return isinstance(cause, (OSError, asyncpg.InvalidAuthorizationSpecificationError,
                              asyncpg.InvalidCatalogNameError, asyncpg.InvalidPasswordError))


def _reason(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    cause = getattr(cause, "__cause__", None) or cause
    return (str(cause).splitlines() or [type(cause).__name__])[0]


def _where(settings: Settings) -> str:
    """host:port/database of DATABASE_URL, never its password."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(db.async_url(settings.database_url or ""))
    except Exception:
        return "DATABASE_URL"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("storelink")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


_COMMANDS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "create-admin": cmd_create_admin,
    "seed-demo": cmd_seed_demo,
    "worker": cmd_worker,
    "train-recommender": cmd_train_recommender,
    "eval-recommender": cmd_eval_recommender,
    "rotate-phone-key": cmd_rotate_phone_key,
    "import": cmd_import,
    "export": cmd_export,
    "trust-documents": cmd_trust_documents,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="storelink")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate the database, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed the demo brand on first start")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes (default 1); with more, the background jobs run in one "
                            "`storelink worker` process beside them")
    serve.add_argument("--no-worker", action="store_true",
                       help="leave the background jobs to a `storelink worker` process")
    sub.add_parser("migrate", help="upgrade the database to the latest migration")
    admin = sub.add_parser("create-admin", help="create an HQ admin account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name")
    sub.add_parser("seed-demo", help="create the demo brand (once)")
    sub.add_parser("worker", help="send due outbox messages, cancel orders left unpaid, retrain the recommender")
    sub.add_parser("train-recommender", help="rebuild the recommender's model from the orders")
    evaluation = sub.add_parser("eval-recommender",
                                help="train on past orders, test next-basket prediction on later ones")
    evaluation.add_argument("--test-share", type=float, default=0.2,
                            help="the latest share of order history held out for testing (default 0.2)")
    evaluation.add_argument("--members", type=int, default=3000,
                            help="test members sampled, each served as in production (default 3000)")
    kinds = ["stores", "staff", "products", "stock", "members", "orders"]
    importing = sub.add_parser("import", help="load a brand's CSV (formats in the README); nothing loads if a row is bad")
    importing.add_argument("kind", choices=kinds)
    importing.add_argument("file")
    importing.add_argument("--dry-run", action="store_true", help="only check the file")
    importing.add_argument("--encoding", default="utf-8", help="the file's encoding, e.g. gbk (default utf-8)")
    exporting = sub.add_parser("export", help="write a kind in its import format")
    exporting.add_argument("kind", choices=kinds)
    exporting.add_argument("file")
    sub.add_parser("rotate-phone-key",
                   help="re-seal every phone under PHONE_ENCRYPTION_KEY (old keys in PHONE_ENCRYPTION_OLD_KEYS)")
    trusting = sub.add_parser("trust-documents",
                              help="load the apps' persisted-operation manifest (relay, graphql-codegen or Apollo)")
    trusting.add_argument("file")
    export = sub.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", default="schema.graphql")
    export.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args(argv)

    configure_logging()
    process.exit_cleanly_on_sigterm()
    if args.command == "export-schema":
        return cmd_export_schema(args, None)
    settings = _settings(args.command)
    if args.command == "serve" and args.demo and not settings.database_url:
        settings = settings.model_copy(update={"storelink_embedded_db": True})  # the demo asks for it
    try:
        _COMMANDS[args.command](args, settings)
    except db.NoDatabase as exc:
        sys.exit(f"storelink: {exc}")
    except (OSError, DBAPIError) as exc:
        if not _is_unreachable(exc):
            raise
        sys.exit(f"storelink: cannot reach the database at {_where(settings)}: {_reason(exc)}")


if __name__ == "__main__":
    main()
