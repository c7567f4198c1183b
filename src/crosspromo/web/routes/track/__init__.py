"""Track: its REST API and inbound webhooks (``api``), and its dashboard pages (``pages``)."""

from crosspromo.web.routes.track.api import api, hooks
from crosspromo.web.routes.track.pages import pages

__all__ = ["api", "hooks", "pages"]
