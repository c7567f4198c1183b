"""Plan: its REST API and the calendar feed (``api``, ``public``), and its dashboard and portal
pages (``pages``)."""

from crosspromo.web.routes.plan.api import api, public
from crosspromo.web.routes.plan.pages import pages

__all__ = ["api", "pages", "public"]
