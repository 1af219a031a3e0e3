"""Cut planning: a customer order (sizes x quantities, colours) in, lays out — markers, plies, fabric.

The order file is a marker specification (`jobs.spec`) with ``[order]``, ``[limits]`` and
``[costs]`` added (`planning.order`). Candidate size mixes are nested for real with the engine
(`planning.yields`), an integer program chooses mixes and plies (`planning.model`, HiGHS through
``scipy.optimize.milp``), the chosen markers are re-nested at the full budget and the program is
solved again (`planning.planner`). Every marker and the plan itself are verified before they are
written (`planning.verify`, `planning.output`).
"""

from planning.order import Order, OrderError, load_order
from planning.plan import CutPlan, Lay
from planning.planner import plan

__all__ = ["CutPlan", "Lay", "Order", "OrderError", "load_order", "plan"]
