"""jim: an instant-messaging server on Twisted (J-IM 3.0 wire protocol, JMessage-style API)."""

__version__ = "0.1.0"
