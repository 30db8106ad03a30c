"""Show "not computable for this data" in a notebook without a branch in the notebook.

A signal raises :class:`~qlib.errors.InsufficientDataError` (with the counts it had
and needed) when a data set cannot support it: a quotes-only feed has no depth, an
hour of trading has too few volume buckets. A notebook that runs on every source
calls such signals through :func:`attempt`, which returns either the value or an
:class:`Unavailable` that displays the reason and passes itself on through the next
:func:`attempt`:

>>> from qlib.errors import InsufficientDataError
>>> def needs_ten(xs):
...     if len(xs) < 10:
...         raise InsufficientDataError(f"had {len(xs)} values, needed 10")
...     return sum(xs)
>>> r = attempt(needs_ten, [1, 2])
>>> r
Unavailable('needs_ten: had 2 values, needed 10')
>>> attempt(str, r) is r   # a later step on an unavailable input is unavailable too
True
>>> attempt(needs_ten, list(range(10)))
45
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qlib.errors import InsufficientDataError

__all__ = ["Unavailable", "attempt"]


@dataclass(frozen=True)
class Unavailable:
    """A result that could not be computed for this data, and why.

    Falsy. Displays as a short note in a notebook (``_repr_html_``); ``show()`` does
    the same, so a cell written for a plotly figure (``fig.show()``) works on it too.

    Attributes
    ----------
    reason
        ``"<function>: <message of the InsufficientDataError>"`` (the function's name
        is not repeated when the message already starts with it).
    """

    reason: str

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"Unavailable({self.reason!r})"

    def _repr_html_(self) -> str:
        return ('<div style="padding:6px 10px;border-left:4px solid #c77;background:#fbf3f3">'
                f"<b>Not computable for this data:</b> {html.escape(self.reason)}</div>")

    def _repr_markdown_(self) -> str:
        return f"**Not computable for this data:** {self.reason}"

    def show(self, *args: Any, **kwargs: Any) -> None:
        """Display the note (IPython display when available, else print)."""
        try:
            from IPython.display import display
        except ImportError:  # pragma: no cover - IPython is a dependency of notebooks only
            print(f"Not computable for this data: {self.reason}")
            return
        display(self)


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)``; on too little data return an :class:`Unavailable`.

    Parameters
    ----------
    fn
        Any callable: a signal, a figure function, a method.
    *args, **kwargs
        Its arguments. If one of them is an :class:`Unavailable` (an earlier
        :func:`attempt` failed), ``fn`` is not called and that object is returned, so
        a chain of steps stops at the first one that could not be computed.

    Returns
    -------
    object
        ``fn``'s result, or :class:`Unavailable` with the function's name and the
        error message.

    Raises
    ------
    Exception
        Anything ``fn`` raises other than
        :class:`~qlib.errors.InsufficientDataError`: bad parameters and bad data are
        errors, not "unavailable".
    """
    for a in (*args, *kwargs.values()):
        if isinstance(a, Unavailable):
            return a
    try:
        return fn(*args, **kwargs)
    except InsufficientDataError as exc:
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        msg = str(exc)
        return Unavailable(msg if msg.startswith(f"{name}:") else f"{name}: {msg}")
