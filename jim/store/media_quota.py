# -*- test-case-name: tests.store_contract.test_media -*-
"""What every media area shares of an app's usage (L{jim.interfaces.IMediaStore}): how it
grows, and the refusal of an upload that would take it past the quota."""
from jim import errors
from jim.errors import JimError
from jim.model import MAX_INT64


def passes(quota, used, size):
    """Does an upload of C{size} more bytes fit a C{quota} (0: none) of which C{used} are
    used?"""
    return not quota or used + size <= quota


def grown(used, size):
    """The usage after C{size} more bytes: it stops at the largest 64-bit integer (what the
    stores can keep; no real usage comes near)."""
    return min(used + size, MAX_INT64)


def refusal(quota, used, size):
    """The JimError of an upload that does not fit."""
    return JimError(errors.MEDIA_QUOTA, f"the app's uploads would pass its quota of {quota}"
                    f" bytes: {used} bytes are kept, this file has {size}")
