"""A marker workbench in the browser: open a pattern, nest with live progress, adjust, download,
and plan an order's lays.

`create_app` builds the ASGI app on a workspace folder; `serve` runs it (``nest serve``). The
package only calls the engine (`nesting`), the readers (`patterns`) and the cut planner
(`planning`); nothing imports it.
"""

from workbench.app import create_app, serve

__all__ = ["create_app", "serve"]
