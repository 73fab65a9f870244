"""What a merchant reads: the interactive docs (Scalar at /schema, Swagger UI at
/schema/swagger) on assets served by the app itself (vendored, see
static/docs/README.md: the docs work with no internet), and the problem types, one page
per `code` at the `type` URL every problem detail names (/problems/{code})."""

from __future__ import annotations

import html
from pathlib import Path
from typing import cast

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

from app.domain.errors import NotFound
from app.entrypoints.http.access import PUBLIC
from app.entrypoints.http.problem_codes import PROBLEM_CODES
from app.entrypoints.http.problems import PROBLEM_TYPE_BASE, TITLES, problem_responses

STATIC_DIR = Path(__file__).with_name("static") / "docs"
ASSETS = "/static/docs"
FAVICON = f"<link rel='icon' type='image/png' href='{ASSETS}/swagger/favicon-32x32.png'>"


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Scalar and Swagger UI on the vendored assets; Scalar's web fonts (fonts.scalar.com)
    and telemetry off, so the pages make no request to another origin."""
    return [
        ScalarRenderPlugin(js_url=f"{ASSETS}/scalar/standalone.js", css_url=f"{ASSETS}/docs.css", favicon=FAVICON,
                           options={"withDefaultFonts": False, "telemetry": False, "hideClientButton": True}),
        SwaggerRenderPlugin(path="/swagger", js_url=f"{ASSETS}/swagger/swagger-ui-bundle.js",
                            css_url=f"{ASSETS}/swagger/swagger-ui.css",
                            standalone_preset_js_url=f"{ASSETS}/swagger/swagger-ui-standalone-preset.js",
                            favicon=FAVICON),
    ]


def docs_assets() -> Router:
    return create_static_files_router(ASSETS, [STATIC_DIR], include_in_schema=False,
                                      cache_control=CacheControlHeader(max_age=86_400), name="docs_assets")


class ProblemType(msgspec.Struct):
    code: str
    status: int
    title: str
    meaning: str
    type: str


class ProblemTypes(msgspec.Struct):
    data: list[ProblemType]


def _problem_type(code: str) -> ProblemType:
    status, meaning = PROBLEM_CODES[code]
    return ProblemType(code, status, TITLES.get(status, "Error"), meaning, PROBLEM_TYPE_BASE + code)


def _wants_html(request: Request) -> bool:
    return request.accept.best_match(["application/json", "text/html"], "application/json") == "text/html"


def _page(title: str, rows: list[ProblemType]) -> str:
    body = "".join(f"<tr id='{p.code}'><td><a href='{html.escape(p.type)}'><code>{p.code}</code></a></td>"
                   f"<td>{p.status}</td><td>{html.escape(p.meaning)}</td></tr>" for p in rows)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Every error is <code>application/problem+json</code> (RFC 9457); its "
            "<code>code</code> always comes with the same status. 400: fix the request; 422: a business rule "
            "refuses it; 409: the resource's state does; 503: retry after <code>Retry-After</code>.</p>"
            f"<table><tr><th>code</th><th>status</th><th>meaning</th></tr>{body}</table></body></html>")


# Documented as JSON (what API clients get); a browser asking for HTML gets a page.
@get("/problems", tags=["docs"], **PUBLIC.route(), summary="Every problem code, its status and meaning",
     media_type="application/json")
async def problem_types(request: Request) -> Response[ProblemTypes]:
    rows = [_problem_type(code) for code in PROBLEM_CODES]
    if _wants_html(request):
        return cast("Response[ProblemTypes]", Response(_page("FusionXPay problem types", rows), media_type="text/html"))
    return Response(ProblemTypes(rows))


@get("/problems/{code:str}", tags=["docs"], **PUBLIC.route(), responses=problem_responses(400, 404),
     summary="One problem code: the page a problem detail's `type` points to", media_type="application/json")
async def problem_type(request: Request, code: str) -> Response[ProblemType]:
    if code not in PROBLEM_CODES:
        raise NotFound(f"no problem code {code!r}", resource="problem_type", id=code[:64])
    found = _problem_type(code)
    if _wants_html(request):
        return cast("Response[ProblemType]", Response(_page(f"Problem: {code}", [found]), media_type="text/html"))
    return Response(found)
