"""qlib: a Jupyter-first research environment for high-frequency trading.

Not Microsoft Qlib (``pyqlib``), which uses the same import name: the two cannot be
installed in one environment.
"""

from qlib.dtypes import EVENT_DTYPE, require_dtype
from qlib.enums import EventFlag, EventKind, Side, Status
from qlib.errors import (
    DataNotFoundError,
    DataQualityError,
    EngineError,
    InsufficientDataError,
    OrderRejected,
    ParameterError,
    QlibError,
    SchemaError,
)
from qlib.instrument import Instrument

__version__ = "0.1.0"

__all__ = [
    "DataNotFoundError",
    "DataQualityError",
    "EVENT_DTYPE",
    "EngineError",
    "EventFlag",
    "EventKind",
    "InsufficientDataError",
    "Instrument",
    "OrderRejected",
    "ParameterError",
    "QlibError",
    "SchemaError",
    "Side",
    "Status",
    "require_dtype",
]
