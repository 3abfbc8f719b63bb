"""The error type of the planning tools."""

from __future__ import annotations

from ..whatif import WhatIfError

__all__ = ["PlanError"]


class PlanError(WhatIfError):
    """Input an optimizer, quota or balance call cannot use: it names the option, the value and the rule.

    A :class:`~salessim.whatif.WhatIfError`, so the command line reports it like the
    what-if tools' errors (one message, exit status 2).
    """
