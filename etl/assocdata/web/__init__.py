"""The web pages: public search, authors' submissions, documentalists' desk (docs/web.md).

``create_app`` builds the Starlette application; ``assocdata web`` serves it.
"""

from .app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
