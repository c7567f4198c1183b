"""Agree: partnerships and their lifecycle (``partnerships``), agreements on signed records
(``agreements``), and what anyone may read without a login (``public``)."""

from fastapi import APIRouter

from crosspromo.web.routes.agree import agreements, partnerships

# One router per kind, holding both modules' routes as declared (each with its own tags and
# responses), so the app and the isolation harnesses see every route of the stage.
api = APIRouter()
api.routes.extend([*partnerships.api.routes, *agreements.api.routes])
pages = APIRouter(include_in_schema=False)
pages.routes.extend([*partnerships.pages.routes, *agreements.pages.routes])
public = partnerships.public

__all__ = ["api", "pages", "public"]
