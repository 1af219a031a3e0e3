"""A marker workbench in the browser: open a pattern, nest with live progress, adjust, download.

`create_app` builds the ASGI app on a workspace folder; `serve` runs it (``nest serve``). The
package only calls the engine (`nesting`) and the readers (`patterns`); nothing imports it.
"""

from workbench.app import create_app, serve

__all__ = ["create_app", "serve"]
