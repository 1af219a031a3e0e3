"""The marker-nesting engine.

>>> from patterns import read_pieces
>>> from nesting import nest, Fabric, NestConfig
>>> pieces, _ = read_pieces("shirt.dxf")
>>> marker = nest(pieces, Fabric(width=1500.0), NestConfig(time_limit=30, seed=0))
>>> marker.length, marker.utilization
"""

from nesting.config import DEFAULT_CONFIG, TARGET_UTILIZATION, NestConfig
from nesting.engine import nest
from nesting.errors import InfeasibleError, NestingError, SpecError, VerificationError
from nesting.model import Fabric, Margins, Marker, Placement
from nesting.search.base import Listener, Stop
from nesting.verify import verify, violations

__all__ = [
    "DEFAULT_CONFIG", "TARGET_UTILIZATION", "Fabric", "InfeasibleError", "Listener", "Margins", "Marker",
    "NestConfig", "NestingError", "Placement", "SpecError", "Stop", "VerificationError", "nest", "verify",
    "violations",
]
