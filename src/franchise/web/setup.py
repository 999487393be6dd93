"""install_web(app): the browser side of Franchise on top of create_app()'s API."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from franchise.static_files import STATIC_DIR
from franchise.web import (
    account_pages,
    alert_card,
    approvals_page,
    client_pages,
    dashboard,
    duty_page,
    integrations_page,
    login,
    new_ticket,
    passkey_pages,
    password_pages,
    people_pages,
    policy_pages,
    queue,
    runbook_pages,
    settings_page,
    sso_pages,
    staff,
    ticket_ask,
    ticket_notes,
    ticket_page,
    ticket_runbook,
    ticket_runner,
)
from franchise.web.error_pages import install_error_pages
from franchise.web.templating import make_environment
from franchise.web.throttle import LoginThrottle


def install_web(app: FastAPI) -> None:
    app.state.web_templates = make_environment()
    app.state.login_throttle = LoginThrottle()
    app.state.web_pages = set()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (
        login,
        sso_pages,
        passkey_pages,
        account_pages,
        queue,
        # Before ticket_page: /tickets/new is not a ticket number.
        new_ticket,
        ticket_page,
        ticket_runner,
        ticket_ask,
        client_pages,
        approvals_page,
        ticket_runbook,
        ticket_notes,
        alert_card,
        staff,
        dashboard,
        runbook_pages,
        policy_pages,
        settings_page,
        integrations_page,
        duty_page,
        people_pages,
        password_pages,
    ):
        add_pages(app, module.router)
    app.include_router(people_pages.links, include_in_schema=False)
    install_error_pages(app)


def add_pages(app: FastAPI, router: APIRouter) -> None:
    """Mount a router of HTML pages (after install_web); nav links to its GET paths appear."""
    app.include_router(router, include_in_schema=False)
    pages: set[str] = app.state.web_pages
    pages.update(
        route.path
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    )
