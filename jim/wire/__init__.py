"""Pure wire code: no I/O, no Twisted. Bytes in, values out, and back."""
