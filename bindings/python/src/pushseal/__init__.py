"""PushSeal Python bindings.

`pushseal._ffi` is made when the package is built (`pip install
./bindings/python`, through maturin): the module UniFFI generates from the
`pushseal-ffi` crate, and that crate's native library, built by cargo. This
file re-exports it, with two things a Python caller expects:

- an error's `str()` is its one-line reason (`"invalid encoding: ..."`), as
  for any Python exception; `error.reason` holds the same text;
- `Message("Lab results", "Ready.")`: title and body by position as well as
  by keyword; the optional fields by keyword;
- streams are iterators: `for outcome in delivery.send(...)` reads a
  `DeliveryStream` to its end, `for result in sender.stream_batch_fcm(...)`
  a `BatchStream`, each calling `next()` until it returns None.
"""

from ._ffi.pushseal_ffi import *  # noqa: F401,F403
from ._ffi.pushseal_ffi import BatchStream, DeliveryError, DeliveryStream, Message, PushSealError
from ._ffi.pushseal_ffi import __all__ as _ffi_all

__all__ = list(_ffi_all)


def _reason(error):
    reason = getattr(error, "reason", None)
    return reason if isinstance(reason, str) else Exception.__str__(error)


def _error_str(self):
    return _reason(self)


def _error_repr(self):
    base = "DeliveryError" if isinstance(self, DeliveryError) else "PushSealError"
    return f"{base}.{type(self).__name__}({_reason(self)!r})"


# The generated classes format every field as `reason='...'`: show the reason alone.
for _error in (PushSealError, DeliveryError):
    _error.__str__ = _error_str
    _error.__repr__ = _error_repr
    for _variant in list(vars(_error).values()):
        if isinstance(_variant, type) and issubclass(_variant, _error):
            _variant.__str__ = _error_str
            _variant.__repr__ = _error_repr


def _stream_iter(self):
    return self


def _stream_next(self):
    item = self.next()
    if item is None:
        raise StopIteration
    return item


# A stream's `next()` returns None at its end; as an iterator it stops there.
for _stream in (BatchStream, DeliveryStream):
    _stream.__iter__ = _stream_iter
    _stream.__next__ = _stream_next

_message_init = Message.__init__


def _message_init_positional(self, title, body, **optional):
    """A notification to seal: `title` and `body` (by position or keyword);
    `data`, `thread_id`, `category`, `badge`, `sound` and `ttl` by keyword."""
    _message_init(self, title=title, body=body, **optional)


# The generated constructor takes keywords only.
Message.__init__ = _message_init_positional
