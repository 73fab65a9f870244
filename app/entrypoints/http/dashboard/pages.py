"""The operator dashboard at /dashboard: server-rendered pages (Jinja, autoescaped) that read
fine without JavaScript; htmx, served by the app itself, only makes links and forms swap the
page in place (hx-boost) and refreshes the overview. Each action is a POST form carrying
the session's CSRF token, answered with a redirect back (303) and a notice."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.response import Redirect, Response, Stream, Template

from app.domain.errors import DomainError, MalformedRequest, Throttled, Unauthenticated, ValidationFailed
from app.domain.model.user import Role
from app.entrypoints.http.controllers.admin_reports import orders_csv_response, provider_report_csv
from app.entrypoints.http.controllers.admin import operator_actions
from app.entrypoints.http.controllers.admin_search import ORDER_STATUS, build_filter, order_timeline, overview
from app.entrypoints.http.dashboard import auth
from app.entrypoints.http.dashboard.chart import hourly_chart

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
NOTICES = {  # what an action's redirect may show: fixed texts, never echoed input
    "approved": "Payment approved: it has been sent to its provider.",
    "rejected": "Payment rejected.",
    "replayed": "Dead letter replayed.",
    "gone": "Nothing done: it was already decided or replayed.",
    "logged_out": "You are logged out.",
}
SEARCH_FIELDS = ("id", "merchant_id", "merchant_reference", "status", "provider", "amount_min", "amount_max",
                 "currency", "card_last4", "customer_email", "created_from", "created_to")
ORDER_STATUSES = ORDER_STATUS.strip("^$()").split("|")


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context=context,
                    status_code=status_code, headers={"Content-Security-Policy": CSP})


def container_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.container


def _to_login(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return Redirect("/dashboard/login", status_code=303)


def _csrf_refused(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return page(request, "error.html", status_code=403, code="csrf_failed",
                message="This form's security token is missing or wrong (a forged request, or a page from an "
                        "older session). Nothing was done; reload the page and try again.")


class DashboardController(Controller):
    path = "/dashboard"
    include_in_schema = False
    exception_handlers = {auth.LoginRequired: _to_login, auth.CsrfFailed: _csrf_refused}

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any], notice: str | None = None) -> Template:
        token = auth.new_login_token()
        response = page(request, "login.html", login_csrf=token, notice=NOTICES.get(notice or ""), error=None)
        response.cookies.append(auth.cookie(request, auth.LOGIN_COOKIE, token, max_age=3600))
        return response

    @post("/login", status_code=303)
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        if not auth.same(form.get("_csrf"), request.cookies.get(auth.LOGIN_COOKIE)):
            raise auth.CsrfFailed()
        container = container_of(request)
        email, password, key = (str(form.get(name) or "") for name in ("email", "password", "admin_key"))
        try:
            operator, user_id, family = await self._authenticate(request, email, password, key)
        except (Unauthenticated, Throttled) as refused:
            token = auth.new_login_token()
            response = page(request, "login.html", status_code=429 if isinstance(refused, Throttled) else 401,
                            login_csrf=token, notice=None, error=refused.message)
            response.cookies.append(auth.cookie(request, auth.LOGIN_COOKIE, token, max_age=3600))
            return response
        session_id, _ = await container.dashboard_sessions.start(operator, user_id, family)
        redirect = Redirect("/dashboard", status_code=303)
        redirect.cookies += [auth.cookie(request, auth.SESSION_COOKIE, session_id), auth.expired(request, auth.LOGIN_COOKIE)]
        return redirect

    async def _authenticate(self, request: Request[Any, Any, Any], email: str, password: str,
                            key: str) -> tuple[str, str | None, str | None]:
        container = container_of(request)
        if key:
            accepted = auth.same(key, container.settings.api.admin_api_key)
            auth.record_key_login(request, accepted)  # user logins are recorded by AccountService
            if accepted:
                return "admin key", None, None
            raise Unauthenticated("wrong admin key", code="invalid_credentials")
        client_ip = request.app.state.client_address.of(request.scope) or "unknown"
        session = await container.accounts.login(email[:320], password[:1024], None, client_ip)
        if session.user.role is not Role.ADMIN:
            await container.sessions.logout(session.refresh_token, None)
            raise Unauthenticated("only operators (admin users) may use the dashboard", code="role_not_allowed")
        return session.user.email, str(session.user.id), str(session.session_id)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        session_id, session = await auth.operator(request)
        await auth.checked_form(request, session)
        container = container_of(request)
        await container.dashboard_sessions.end(session_id)
        if session.family_id:
            await container.sessions.logout(None, uuid.UUID(session.family_id))
        redirect = Redirect("/dashboard/login?notice=logged_out", status_code=303)
        redirect.cookies.append(auth.expired(request, auth.SESSION_COOKIE))
        return redirect

    @get("/")
    async def overview(self, request: Request[Any, Any, Any]) -> Template:
        _, session = await auth.operator(request)
        c = container_of(request)
        figures = await overview(c.admin_queries, c.dead_letters)
        chart = hourly_chart([msgspec.structs.asdict(h) for h in figures.hourly])
        return page(request, "overview.html", session=session, o=figures, chart=chart, nav="overview")

    @get("/orders")
    async def orders(self, request: Request[Any, Any, Any], id: str | None = None, merchant_id: str | None = None,
                     merchant_reference: str | None = None, status: str | None = None, provider: str | None = None,
                     amount_min: str | None = None, amount_max: str | None = None, currency: str | None = None,
                     card_last4: str | None = None, customer_email: str | None = None,
                     created_from: str | None = None, created_to: str | None = None,
                     cursor: str | None = None) -> Template:
        _, session = await auth.operator(request)
        given = {k: v.strip() for k, v in request.query_params.items() if k in SEARCH_FIELDS and v and v.strip()}
        rows, has_more, error, next_link = [], False, None, None
        try:
            rows, has_more = await container_of(request).admin_queries.search_orders(search_filter(given, cursor))
        except (MalformedRequest, ValidationFailed) as refused:
            error = refused.message
        if has_more and rows:
            from urllib.parse import urlencode

            from app.entrypoints.http.pagination import encode_cursor

            next_link = "/dashboard/orders?" + urlencode(
                {**given, "cursor": encode_cursor(rows[-1]["created_at"], rows[-1]["id"])})
        return page(request, "orders.html", session=session, rows=rows, given=given, error=error,
                    next_link=next_link, statuses=ORDER_STATUSES, nav="orders")

    @get("/orders.csv", media_type="text/csv")
    async def orders_csv(self, request: Request[Any, Any, Any], id: str | None = None,
                         merchant_id: str | None = None, merchant_reference: str | None = None,
                         status: str | None = None, provider: str | None = None, amount_min: str | None = None,
                         amount_max: str | None = None, currency: str | None = None, card_last4: str | None = None,
                         customer_email: str | None = None, created_from: str | None = None,
                         created_to: str | None = None) -> Response[Any]:
        """The search on the page as CSV (every page, formulas neutralised)."""
        await auth.operator(request)
        given = {k: v.strip() for k, v in request.query_params.items() if k in SEARCH_FIELDS and v and v.strip()}
        try:
            search = dataclasses.replace(search_filter(given, None), limit=200)
        except (MalformedRequest, ValidationFailed) as refused:
            return page(request, "error.html", status_code=400, code="invalid_filter", message=refused.message)
        return orders_csv_response(container_of(request).admin_queries, search)

    @get("/orders/{order_id:uuid}")
    async def timeline(self, request: Request[Any, Any, Any], order_id: uuid.UUID) -> Template:
        _, session = await auth.operator(request)
        try:
            found = await order_timeline(container_of(request).admin_queries, order_id)
        except DomainError:
            return page(request, "error.html", status_code=404, session=session, code="not_found",
                        message="No such order.")
        return page(request, "timeline.html", session=session, t=found, nav="orders")

    @get("/reviews")
    async def reviews(self, request: Request[Any, Any, Any], notice: str | None = None) -> Template:
        _, session = await auth.operator(request)
        held = await container_of(request).reviews.open_reviews(200)
        return page(request, "reviews.html", session=session, held=held, notice=NOTICES.get(notice or ""),
                    nav="reviews")

    @post("/reviews/{payment_id:uuid}/{decision:str}", status_code=303)
    async def decide(self, request: Request[Any, Any, Any], payment_id: uuid.UUID, decision: str) -> Response[Any]:
        _, session = await auth.operator(request)
        await auth.checked_form(request, session)
        reviews = container_of(request).reviews
        if decision not in ("approve", "reject"):
            return page(request, "error.html", status_code=404, session=session, code="not_found",
                        message="No such action.")
        try:
            await (reviews.approve(payment_id) if decision == "approve" else reviews.reject(payment_id))
            notice = "approved" if decision == "approve" else "rejected"
        except DomainError:  # decided meanwhile (409), or unknown (404)
            notice = "gone"
        return Redirect(f"/dashboard/reviews?notice={notice}", status_code=303)

    @get("/dead-letters")
    async def dead_letters(self, request: Request[Any, Any, Any], notice: str | None = None) -> Template:
        _, session = await auth.operator(request)
        letters = await container_of(request).dead_letters.list()
        return page(request, "dead_letters.html", session=session, letters=letters,
                    notice=NOTICES.get(notice or ""), nav="dead_letters")

    @post("/dead-letters/{message_id:str}/replay", status_code=303)
    async def replay(self, request: Request[Any, Any, Any], message_id: str) -> Response[Any]:
        _, session = await auth.operator(request)
        await auth.checked_form(request, session)
        try:
            await operator_actions(request).replay_dead_letter(message_id[:200])
            notice = "replayed"
        except DomainError:  # replayed meanwhile, or unknown (recorded as a failed attempt)
            notice = "gone"
        return Redirect(f"/dashboard/dead-letters?notice={notice}", status_code=303)

    @get("/webhooks")
    async def webhooks(self, request: Request[Any, Any, Any]) -> Template:
        _, session = await auth.operator(request)
        queries = container_of(request).admin_queries
        return page(request, "webhooks.html", session=session, jobs=await queries.webhook_jobs(None, 100),
                    deliveries=await queries.recent_deliveries(100), nav="webhooks")

    @get("/merchants")
    async def merchants(self, request: Request[Any, Any, Any]) -> Template:
        _, session = await auth.operator(request)
        return page(request, "merchants.html", session=session,
                    merchants=await container_of(request).admin_queries.merchants(500), nav="merchants")

    @get("/reports")
    async def reports(self, request: Request[Any, Any, Any]) -> Template:
        _, session = await auth.operator(request)
        end = datetime.now(UTC)
        start = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
        rows = await container_of(request).reports.providers(start, end, "day")
        return page(request, "reports.html", session=session, rows=rows, start=start, end=end, nav="reports")

    @get("/reports.csv", media_type="text/csv")
    async def reports_csv(self, request: Request[Any, Any, Any]) -> Stream:
        await auth.operator(request)
        end = datetime.now(UTC)
        start = end.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
        rows = await container_of(request).reports.providers(start, end, "day")
        return provider_report_csv(rows, f"providers-day-{start:%Y%m%d}.csv")

    @get("/audit")
    async def audit(self, request: Request[Any, Any, Any]) -> Template:
        _, session = await auth.operator(request)
        records = await container_of(request).admin_queries.audit_log(200)
        return page(request, "audit.html", session=session, records=records, nav="audit")


def search_filter(given: dict[str, str], cursor: str | None) -> Any:
    """The search form's fields as a filter; a malformed one is a MalformedRequest shown on the page."""
    values: dict[str, Any] = {}
    for name in ("id", "merchant_id"):
        if name in given:
            try:
                values[name] = uuid.UUID(given[name])
            except ValueError:
                raise MalformedRequest(f"{name} is not a UUID", field=name) from None
    for name in ("amount_min", "amount_max"):
        if name in given:
            if not given[name].isdigit() or len(given[name]) > 15:
                raise MalformedRequest(f"{name} must be a whole number of minor units", field=name)
            values[name] = int(given[name])
    if "status" in given and given["status"] not in ORDER_STATUSES:
        raise MalformedRequest("unknown status", field="status")
    if "card_last4" in given and not (given["card_last4"].isdigit() and len(given["card_last4"]) == 4):
        raise MalformedRequest("card_last4 must be 4 digits", field="card_last4")
    for name in ("merchant_reference", "provider", "currency", "customer_email", "created_from", "created_to"):
        if name in given:
            values[name] = given[name][:254]
    if "currency" in values:
        values["currency"] = values["currency"].upper()
    return build_filter(**values, cursor=cursor, limit=50)
