"""The project's error type for bad input.

:class:`InputError` is what every public function raises when a caller passes
something it cannot use (a wrong shape, NaN boxes, an unknown option, a file that is
not what it should be). It subclasses :class:`ValueError`, so code that already catches
``ValueError`` keeps working, while the command line can catch *only* this type and
let genuine bugs show their traceback.

Not taught: the error type behind the course's clear messages.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message names the argument, the value received and what was expected."""
