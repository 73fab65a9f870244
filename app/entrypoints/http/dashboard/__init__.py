"""The operator dashboard: its pages, its templates and its static files (htmx and CSS,
served by the app itself: no CDN)."""

from __future__ import annotations

from pathlib import Path

from litestar import Controller
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from app.entrypoints.http.dashboard.pages import DashboardController

HERE = Path(__file__).parent


def dashboard_handlers() -> list[type[Controller] | Router]:
    return [DashboardController, create_static_files_router(path="/dashboard/static", directories=[HERE / "static"],
                                                            name="dashboard_static")]


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
