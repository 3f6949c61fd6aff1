# -*- test-case-name: tests.test_store_client_ids -*-
"""Which client ids a store may hold, answered from memory.

A chat with a client id is a resend if its sender already sent that id (to that target): the
core then acknowledges the first message again rather than storing another. Reading the store
to find out cost every such chat a round trip, and nearly every chat of a browser or SDK
client has a client id. L{ClientIdFilter} answers "no" from memory for most of them, so only
a "maybe" reads the store.

It is a Bloom filter of C{(app, sender, client id)}: a "no" is always right (every id the
store holds was added), a "maybe" may be wrong (about one in a hundred while it holds no more
than it was sized for, more past that; a wrong "maybe" costs only the read it would have cost
anyway). Until it is loaded with what the store held when it opened (L{load}), it answers
"maybe" for everything. Pure: the store feeds it.
"""

#: bits a key, and hashes a key: about 1% of "maybe" for keys never added, at capacity
BITS_PER_KEY = 10
HASHES = 4
#: the keys the smallest filter is sized for (256 KiB of bits, with room to double)
MIN_CAPACITY = 1 << 16


def size_for(count):
    """The number of bits (a power of two) of a filter for C{count} keys, with room to
    double."""
    wanted = max(MIN_CAPACITY, 2 * count) * BITS_PER_KEY
    return 1 << (wanted - 1).bit_length()


class Bits:
    """A Bloom filter's bits: C{add} and C{may_hold} of hashable keys."""

    def __init__(self, size):
        if size & (size - 1):
            raise ValueError("the size of a filter is a power of two")
        self.size = size
        self._mask = size - 1
        self._bits = bytearray(size >> 3)

    def _places(self, key):
        h = hash(key)
        first, step = h & 0xFFFFFFFF, ((h >> 32) & 0xFFFFFFFF) | 1
        mask = self._mask
        return [(first + i * step) & mask for i in range(HASHES)]

    def add(self, key):
        bits = self._bits
        for place in self._places(key):
            bits[place >> 3] |= 1 << (place & 7)

    def may_hold(self, key):
        bits = self._bits
        for place in self._places(key):
            if not bits[place >> 3] & (1 << (place & 7)):
                return False
        return True

    def merge(self, other):
        """Add every key of C{other} (a Bits of the same size)."""
        if other.size != self.size:
            raise ValueError("only filters of one size merge")
        merged = int.from_bytes(self._bits, "little") | int.from_bytes(other._bits, "little")
        self._bits[:] = merged.to_bytes(len(self._bits), "little")


class ClientIdFilter:
    """What a store may hold, as L{Bits} of C{(app, sender, client id)}.

    The store calls L{added} for every message with a client id it is given, and L{load}
    once, with the bits of what it held when it opened (made with L{bits_for} off the main
    thread, while the store is already taking messages: those go in too)."""

    def __init__(self):
        self._bits = None  # None until loaded: everything "maybe"
        self._meanwhile = []  # keys added while loading
        self.added_since_load = 0
        self.capacity = 0

    @staticmethod
    def bits_for(count, keys):
        """The L{Bits} of C{keys} (an iterable of C{(app, sender, client id)}, C{count} of
        them or about that), sized for them and as many again."""
        bits = Bits(size_for(count))
        for key in keys:
            bits.add(key)
        return bits

    def load(self, bits):
        """What the store held when it opened: from now on, "no" is answered."""
        for key in self._meanwhile:
            bits.add(key)
        self._meanwhile = []
        self._bits = bits
        self.capacity = bits.size // BITS_PER_KEY

    @property
    def loaded(self):
        return self._bits is not None

    def abandon(self):
        """It will not be loaded (the store could not read its ids): "maybe" it stays, and
        nothing more is kept for the load."""
        self._meanwhile = None

    def added(self, app, sender, client_id):
        key = (app, sender, client_id)
        if self._bits is None:
            if self._meanwhile is not None:
                self._meanwhile.append(key)
        else:
            self._bits.add(key)
            self.added_since_load += 1

    def may_hold(self, app, sender, client_id):
        """False only if no message of C{sender} with C{client_id} was added."""
        bits = self._bits
        return bits is None or bits.may_hold((app, sender, client_id))
