"""One contract per area of L{jim.interfaces.IStore}, run against every store (see base.py)."""
