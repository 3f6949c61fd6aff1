# -*- test-case-name: tests.test_core_word_filter -*-
"""An app's sensitive words, masked in a text in one pass.

L{WordFilter} builds an Aho-Corasick automaton once from the word list; L{WordFilter.mask}
then reads a text once, whatever the number of words. Matching ignores case one character
at a time (L{fold}), so a text's positions never shift: every character of every occurrence
of a word becomes C{"*"}, and the result is as long as the text. Pure: no Twisted, no I/O.
"""
from collections import deque

MASK = "*"


def fold(c):
    """The character C{c} as matching compares it: C{c.lower()} when that is one character,
    else C{c} itself (C{"İ".lower()} is two characters: C{"İ"} stays C{"İ"})."""
    lower = c.lower()
    return lower if len(lower) == 1 else c


class WordFilter:
    """Masks an app's sensitive words in a text in one pass (an Aho-Corasick automaton built
    once from the word list).

    The automaton's states are the prefixes of the (folded) words: C{_goto[s]} maps a
    character to the next state, C{_fail[s]} is the state of the longest proper suffix of
    C{s} that is also a prefix, and C{_longest[s]} the length of the longest word that is a
    suffix of C{s} (0 if none), so that at each position of a text the longest occurrence
    ending there is known without enumerating the others.
    """

    __slots__ = ("_words", "_goto", "_fail", "_longest")

    def __init__(self, words):
        """
        @param words: an iterable of non-empty C{str}; repeats are ignored, and it may be
            empty (then L{mask} changes nothing and the filter is false).
        @raise TypeError: if C{words} is a C{str} (a word list was meant) or holds a non-str.
        @raise ValueError: if a word is empty.
        """
        if isinstance(words, str):
            raise TypeError("WordFilter wants an iterable of words, not a str")
        self._words = tuple(dict.fromkeys(words))
        goto, longest = [{}], [0]
        for word in self._words:
            if not isinstance(word, str):
                raise TypeError(f"a word must be a str, not {type(word).__name__}")
            if not word:
                raise ValueError("a word must not be empty")
            state = 0
            for c in map(fold, word):
                nxt = goto[state].get(c)
                if nxt is None:
                    nxt = goto[state][c] = len(goto)
                    goto.append({})
                    longest.append(0)
                state = nxt
            longest[state] = len(word)  # folding keeps lengths
        fail = [0] * len(goto)
        queue = deque(goto[0].values())  # depth 1: their fail link is the root
        while queue:  # breadth-first: a fail link always points to a shallower, finished state
            state = queue.popleft()
            for c, nxt in goto[state].items():
                back = fail[state]
                while back and c not in goto[back]:
                    back = fail[back]
                fail[nxt] = goto[back].get(c, 0)
                longest[nxt] = max(longest[nxt], longest[fail[nxt]])
                queue.append(nxt)
        self._goto, self._fail, self._longest = goto, fail, longest

    @property
    def words(self):
        """The distinct words, in the order they were first given (a C{tuple})."""
        return self._words

    def __bool__(self):
        """False when there are no words: callers may skip L{mask}."""
        return bool(self._words)

    def __repr__(self):
        return f"WordFilter({list(self._words)!r})"

    def mask(self, text):
        """C{text} with every character of every occurrence of a word replaced by C{"*"}.

        Occurrences may overlap or nest: the union of their characters is masked. Linear in
        C{len(text)}: one pass through the automaton notes the longest occurrence ending at
        each position, one pass back from the end masks what those spans cover.

        @param text: a C{str}.
        @return: a C{str} as long as C{text}; C{text} itself when no word occurs in it.
        """
        goto, fail, longest = self._goto, self._fail, self._longest
        starts = {}  # end position -> start of the longest occurrence ending there
        state = 0
        for end, c in enumerate(map(fold, text)):
            while state and c not in goto[state]:
                state = fail[state]
            state = goto[state].get(c, 0)
            if longest[state]:
                starts[end] = end - longest[state] + 1
        if not starts:
            return text
        chars = list(text)
        low = len(text)  # the lowest start of an occurrence ending at or after `end`
        for end in range(len(text) - 1, -1, -1):
            low = min(low, starts.get(end, low))
            if low <= end:
                chars[end] = MASK
        return "".join(chars)
