"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from crosspromo import __version__
from crosspromo.config import Settings, load_settings
from crosspromo.services.accounts.secrets import reseal_all
from crosspromo.services.admin.database import open_database
from crosspromo.services.agree.records import end_due
from crosspromo.services.plan.reminders import send_reminders
from crosspromo.services.results import latest
from crosspromo.services.track.outbound import DispatcherThread
from crosspromo.services.track.recording import record_requests
from crosspromo.services.track.reference import Reference
from crosspromo.store.blobs import BlobStore
from crosspromo.tracking.batches import GroupWriter
from crosspromo.tracking.clicks import ClickWriter
from crosspromo.tracking.journal import JournalWriter
from crosspromo.tracking.redirect import RedirectApp
from crosspromo.web import formats
from crosspromo.web.access import AccessLogMiddleware
from crosspromo.web.direct import DirectRedirect
from crosspromo.web.errors import install_error_handlers
from crosspromo.web.fast import ConversionsPath, FastPaths
from crosspromo.web.headers import SecurityHeadersMiddleware, hsts_seconds
from crosspromo.web.limits import BodyLimitMiddleware
from crosspromo.web.pages import install_redirects
from crosspromo.web.progress import install_progress
from crosspromo.web.routes import (
    accounts,
    agree,
    discover,
    docs,
    health,
    measure,
    pay,
    plan,
    track,
)
from crosspromo.web.routes.plan.assets import FORM_OVERHEAD, UPLOADS
from crosspromo.web.server import ACCESS_LOG_ENV, CLICK_MOVER_ENV

HERE = Path(__file__).parent


def create_app(settings: Settings, *, warm: bool = False, journal: bool = False) -> FastAPI:
    """Build the app for ``settings``. The schema must be current (``crosspromo db upgrade``).
    ``warm``: compute the dashboards' heavy results in the background once started.
    ``journal``: clicks go to this process's journal, for the click mover that ``serve``
    runs beside the workers; otherwise they are stored by this process."""
    db = open_database(settings)
    writer = JournalWriter(settings.click_journal()) if journal else ClickWriter(db)
    conversions = GroupWriter(
        partial(record_requests, db, reference=Reference()),
        name="conversion writer",
        around=db.holding,
        # PostgreSQL: one thread's batch is written while the other's waits on the server
        # (measured 0.43-0.49x of the bare insert with one, 0.52-0.58x with two); SQLite
        # takes one writer at a time, and a second thread only waits on its lock
        threads=1 if settings.is_sqlite else 2,
    )
    chores: list[Callable[[], object]] = [lambda: end_due(db)]
    if settings.smtp_host:  # checklist steps due soon, by e-mail, once each
        chores.append(lambda: send_reminders(db, settings))
    dispatcher = DispatcherThread(db, settings.webhook_dispatch_seconds, chores=chores)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        resealed = reseal_all(db)  # after a rotation of the secret key: under the new one
        if resealed:
            logging.getLogger("crosspromo").info(
                "sealed %d secrets under the current key", resealed
            )
        writer.start()
        conversions.start()
        dispatcher.start()
        if warm:
            latest.warm(db)
        yield
        dispatcher.stop()
        conversions.stop()
        writer.stop()
        db.dispose()

    app = FastAPI(
        title="crosspromo",
        version=__version__,
        description="Cross-promotion between businesses: partnerships, tracking, measurement.",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored assets: nothing comes from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.click_writer = writer
    app.state.conversion_writer = conversions
    app.state.redirect = RedirectApp(db, writer)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["version"] = __version__
    formats.install(templates.env)
    app.state.templates = templates
    install_error_handlers(app)
    install_progress(app, settings.progress_after_seconds)
    install_redirects(app)
    app.state.blobs = BlobStore(settings.assets_url())
    larger = dict.fromkeys(discover.LARGE_BODIES, settings.overlap_max_bytes)
    # uploads (assets, logos): allowed by their routes only once the caller is known
    larger |= dict.fromkeys(UPLOADS, settings.asset_max_bytes + FORM_OVERHEAD)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, larger=larger)
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=hsts_seconds(settings))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    stages = (accounts, agree, discover, track, measure, pay)
    routers = [
        docs.router,
        health.router,
        *(stage.api for stage in stages),
        plan.api,
        discover.overlap,
        discover.protocol,
        track.hooks,
        agree.public,
        plan.public,
        *(stage.pages for stage in stages),
        plan.pages,
    ]  # API routes, then pages; fmt: skip
    for router in routers:
        # The routes as declared, not ``include_router``: an inclusion builds every route's
        # validation models again for each app on its first request (about 0.5 s a router);
        # the declared routes built theirs once, at import, and an app adds nothing to them.
        app.router.routes.extend(router.routes)
    return app


def create_server(
    settings: Settings, *, access_log: bool = False, journal: bool = False
) -> FastPaths:
    """What the server runs: the hot paths (``/r/...``, ``POST /api/v1/conversions``) served
    ahead of the FastAPI app, which handles everything else (and the lifespan), most redirects
    by the server's protocol itself (``web.direct``); with ``access_log`` a line a request,
    without raw addresses or query strings."""
    app = create_app(settings, warm=True, journal=journal)
    hsts = hsts_seconds(settings)
    redirect = SecurityHeadersMiddleware(app.state.redirect, hsts)
    conversions = SecurityHeadersMiddleware(
        ConversionsPath(app, app.state.conversion_writer, settings.max_body_bytes), hsts
    )
    if access_log:
        salts = app.state.redirect.salts
        state = app.state
        # every request through ASGI, where each gets its line
        return FastPaths(
            AccessLogMiddleware(app, salts, state=state),
            AccessLogMiddleware(redirect, salts, state=state),
            AccessLogMiddleware(conversions, salts, state=state),
        )
    direct = DirectRedirect(app.state.redirect, redirect)
    return FastPaths(app, redirect, conversions, direct)


def app_from_environment() -> FastPaths:
    """Entry point for ``uvicorn --factory``: Settings from ``CROSSPROMO_*`` variables."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    server = create_server(
        load_settings(),
        access_log=os.environ.get(ACCESS_LOG_ENV) == "1",
        journal=os.environ.get(CLICK_MOVER_ENV) == "1",
    )
    # What is built by now (modules, the app, its routes) lives as long as the process: out of
    # the collector's way, so a full collection under load does not pause every request in
    # flight (seen as a p99 of 300 ms at 600 conversions/s).
    gc.freeze()
    return server
