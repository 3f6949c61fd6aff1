"""Implementations of L{jim.interfaces.IBus} and L{jim.interfaces.IPresence}.

C{local} serves one process; a cluster swaps in a bus and a presence over a shared server.
"""
