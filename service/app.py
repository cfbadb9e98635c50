"""The application factory."""

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.middleware.cors import CORSMiddleware

from service import __version__
from service.api import API_PREFIX, API_ROUTERS
from service.auth.cache import PrincipalCache
from service.auth.middleware import AuthenticationMiddleware, document_api_key
from service.core.body_guard import BodyGuardMiddleware
from service.core.conditional import ConditionalGetMiddleware, document_conditional_get
from service.core.database import Database
from service.core.methods import AllowedMethodsMiddleware, Resources
from service.core.openapi import document_response_examples, install_openapi, operation_id
from service.core.problems import install_problem_handlers
from service.core.unit_of_work import UnitOfWorkMiddleware
from service.db import make_engine
from service.documents.models import MARKDOWN_MEDIA_TYPE
from service.documents.router import IMPORT_PATH, document_markdown_import
from service.health import router as health_router
from service.integrations.keys import LazySecretBox
from service.observability import tracing
from service.observability.metrics import Metrics
from service.observability.requests import RequestObservabilityMiddleware
from service.observability.router import router as metrics_router
from service.outbox.runner import background_worker
from service.postmortems.examples import RESPONSE_EXAMPLES
from service.settings import Settings
from service.timeline.router import CSV_MEDIA_TYPE, TIMELINE_IMPORT_PATH, document_timeline_import
from service.webhooks.router import router as webhooks_router

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

DESCRIPTION = """\
Incident postmortems, their UTC timelines and action items, and the review workflow
draft -> in_review -> complete.

Every `/v1` operation needs `Authorization: Bearer <API key>`. Errors are RFC 9457
`application/problem+json` documents whose `errors` list names each field at fault. Text fields
may not contain NUL characters.
Every GET answer carries an `ETag` naming what it shows; send it back as `If-None-Match` to get
304 with no body while nothing changed, and a single resource's as `If-Match` to change it safely.
Answers to a key are `Cache-Control: private, no-cache`.
POSTs accept an `Idempotency-Key` header to make retries safe. `OPTIONS` on any resource answers
204 with `Allow`; `HEAD` works wherever `GET` does; a method a resource lacks answers 405 with `Allow`.

Action items become tickets in Jira Cloud, Linear or GitHub Issues (`/v1/integrations`);
their status comes back through the trackers' signed webhooks (`/v1/webhooks/...`).
"""

CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-ID"]
CORS_RESPONSE_HEADERS = ["ETag", "Location", "Retry-After", "X-Request-ID"]


def create_app(settings: Settings, *, run_worker: bool = False) -> FastAPI:
    """The app; with `run_worker` its lifespan also runs the outbox worker (see `outbox.runner`)."""
    database = Database(make_engine(settings.database_url, pool_size=settings.db_pool_size))
    metrics = Metrics()
    secrets = LazySecretBox(settings)
    tracer_provider: TracerProvider | None = None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            box = secrets.box
            if run_worker:
                await stack.enter_async_context(background_worker(database, settings, metrics, box))
            yield
        await database.dispose()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # sends the spans still buffered

    app = FastAPIOffline(
        title="postmortems",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        redoc_url=None,
        static_url="/docs/assets",
        favicon_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.metrics = metrics
    app.state.engine = database.engine
    app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
    app.state.secrets = secrets
    install_problem_handlers(app)
    install_openapi(
        app,
        document_api_key,
        document_conditional_get,
        document_markdown_import,
        document_timeline_import,
        document_response_examples(RESPONSE_EXAMPLES),
    )
    templates: dict[int, str] = {}  # id of each route: routes compare by value and do not hash
    methods: dict[str, set[str]] = {}  # path template -> the methods of its routes
    routers = [
        (health_router, ""),
        (metrics_router, ""),
        *((r, API_PREFIX) for r in API_ROUTERS),
        (webhooks_router, ""),
    ]
    for router, prefix in routers:
        app.include_router(router, prefix=prefix)
        for route in router.routes:
            if isinstance(route, APIRoute):
                templates[id(route)] = prefix + route.path
                methods.setdefault(prefix + route.path, set()).update(route.methods or ())
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(AuthenticationMiddleware, cache=app.state.principal_cache)
    app.add_middleware(UnitOfWorkMiddleware, database=database)
    app.add_middleware(
        BodyGuardMiddleware,
        max_body_bytes=settings.max_body_bytes,
        text_bodies={IMPORT_PATH: MARKDOWN_MEDIA_TYPE},
        also_accepted=[(TIMELINE_IMPORT_PATH, CSV_MEDIA_TYPE)],
    )
    app.add_middleware(AllowedMethodsMiddleware, resources=Resources(methods))
    if settings.cors_allow_origins:  # before the methods: a preflight is answered for the browser, not as OPTIONS
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=sorted(set().union(*methods.values())),
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            max_age=600,
        )
    tracer_provider = tracing.install(app)
    app.add_middleware(
        RequestObservabilityMiddleware, metrics=metrics, templates=templates, access_log=settings.access_log
    )
    return app
