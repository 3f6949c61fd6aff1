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
"maybe" for everything. Once it holds more than it was sized for, it asks to be read again,
bigger (C{on_full}). Pure: the store feeds it.
"""

#: bits a key, and hashes a key: about 1% of "maybe" for keys never added, at capacity
BITS_PER_KEY = 10
HASHES = 4
#: the keys the smallest filter is sized for (128 KiB of bits, with room to double)
MIN_CAPACITY = 1 << 16


def size_for(count, minimum=MIN_CAPACITY):
    """The number of bits (a power of two) of a filter for C{count} keys, with room to
    double, and for at least C{minimum} keys."""
    wanted = max(minimum, 2 * count) * BITS_PER_KEY
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


class ClientIdFilter:
    """What a store may hold, as L{Bits} of C{(app, sender, client id)}.

    The store calls L{added} for every message with a client id it is given, and L{load}
    with the bits of what it held when it began reading them (made with L{bits_for} off the
    main thread, while the store is already taking messages: those go in too).

    It grows: once it holds more keys than it was sized for (its C{capacity}), its "maybe"s
    become more frequent, so it calls C{on_full(held)} (once) and keeps what is added from then
    on; the store reads its keys again into bigger bits and calls L{load}, or L{read_failed}.
    Meanwhile the full filter goes on answering, and stays right: it still holds every key.

    @param on_full: called with the keys held when it passes its capacity (None: it never
        grows).
    """

    def __init__(self, on_full=None):
        self._bits = None  # None until loaded: everything "maybe"
        self._meanwhile = []  # keys added while its bits are read; None while not reading
        self._on_full = on_full
        self.held = 0  # keys loaded and added since (a key added twice counts twice)
        self.capacity = 0
        self._grow_at = 0  # held past which on_full is called

    @staticmethod
    def bits_for(count, keys):
        """The L{Bits} of C{keys} (an iterable of C{(app, sender, client id)}, C{count} of
        them or about that), sized for them and as many again."""
        bits = Bits(size_for(count))
        for key in keys:
            bits.add(key)
        return bits

    def load(self, bits, count):
        """What the store held when it began reading (C{count} keys, about): from now on,
        "no" is answered from C{bits}, with what was added meanwhile."""
        meanwhile = self._meanwhile or ()
        for key in meanwhile:
            bits.add(key)
        self._meanwhile = None
        self._bits = bits
        self.held = count + len(meanwhile)
        self.capacity = self._grow_at = bits.size // BITS_PER_KEY

    @property
    def loaded(self):
        return self._bits is not None

    @property
    def reading(self):
        """Whether its bits are being read (at the start, or to grow)."""
        return self._meanwhile is not None

    def read_failed(self):
        """Its bits could not be read, and nothing more is kept for them. Never loaded: it
        says "maybe" for everything from now on. Growing: the full bits go on, and it asks
        again once it holds twice as many keys."""
        self._meanwhile = None
        self._grow_at = 2 * self.held

    def added(self, app, sender, client_id):
        key = (app, sender, client_id)
        meanwhile = self._meanwhile
        if meanwhile is not None:
            meanwhile.append(key)
        bits = self._bits
        if bits is None:
            return
        bits.add(key)
        self.held += 1
        if self.held > self._grow_at and meanwhile is None and self._on_full is not None:
            # this key too: the store may not have queued its write yet, so the reads that
            # follow may not find it in the file
            self._meanwhile = [key]
            self._on_full(self.held)

    def may_hold(self, app, sender, client_id):
        """False only if no message of C{sender} with C{client_id} was added."""
        bits = self._bits
        return bits is None or bits.may_hold((app, sender, client_id))
