"""Whole-word phrase matching on Vietnamese words (pakn.words): a trie of phrases, and cues."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pakn.words import PLACE_BREAKS, SENTENCE_BREAKS, Word, Words, agree, words

__all__ = [
    "PLACE_BREAKS",
    "SENTENCE_BREAKS",
    "Cues",
    "Hit",
    "PhraseIndex",
    "Word",
    "Words",
    "words",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Hit(Generic[T]):
    """A phrase found at words ``start``..``end`` (exclusive)."""

    start: int
    end: int
    payload: T


@dataclass(slots=True)
class _Node(Generic[T]):
    children: dict[str, _Node[T]] = field(default_factory=dict)
    entries: list[tuple[tuple[Word, ...], T]] = field(default_factory=list)


class PhraseIndex(Generic[T]):
    """Phrases as word sequences in a trie: finding all of them costs one walk per word."""

    def __init__(self, breaks: frozenset[str] = SENTENCE_BREAKS) -> None:
        self.breaks = breaks
        self._root: _Node[T] = _Node()
        self.size = 0

    def add(self, phrase: str, payload: T) -> None:
        phrase_words = tuple(w for w in words(phrase, frozenset()).items if w is not None)
        if not phrase_words:
            raise ValueError(f"phrase {phrase!r} has no word")
        node = self._root
        for word in phrase_words:
            node = node.children.setdefault(word.folded, _Node())
        node.entries.append((phrase_words, payload))
        self.size += 1

    def words(self, text: str) -> Words:
        """``text`` cut the way this index's phrases are looked for."""
        return words(text, self.breaks)

    def find(self, text: Words) -> Iterator[Hit[T]]:
        """Every phrase occurrence (overlapping ones too), left to right."""
        items = text.items
        for start in range(len(items)):
            node = self._root
            position = start
            while position < len(items):
                word = items[position]
                if word is None:
                    break
                child = node.children.get(word.folded)
                if child is None:
                    break
                node = child
                position += 1
                for phrase_words, payload in node.entries:
                    if not text.marked or agree(items[start:position], phrase_words):
                        yield Hit(start, position, payload)


class Cues(Generic[T]):
    """Short word lists ("gần", "trước", "đường"…) looked for right around a phrase."""

    def __init__(self, cues: dict[str, T], breaks: frozenset[str] = SENTENCE_BREAKS) -> None:
        self._index: PhraseIndex[T] = PhraseIndex(breaks)
        self._longest = 1
        for cue, payload in cues.items():
            self._index.add(cue, payload)
            self._longest = max(self._longest, len(words(cue, frozenset())))

    def before(self, text: Words, start: int, within: int = 0) -> T | None:
        """A cue right before word ``start`` or, with ``within``, among the words before it.

        Only words of the same sentence count.
        """
        items = list(text.items[max(0, start - (within or self._longest)) : start])
        if None in items:
            items = items[len(items) - items[::-1].index(None) :]
        for hit in self._index.find(Words(tuple(items), text.marked)):
            if within or hit.end == len(items):
                return hit.payload
        return None

    def after(self, text: Words, end: int) -> T | None:
        """A cue as the word after words ..``end``, across one break ("Vĩnh Phương (cũ)")."""
        following = tuple(item for item in text.items[end : end + 2] if item is not None)[:1]
        hits = self._index.find(Words(following, text.marked))
        return next((hit.payload for hit in hits), None)

    def positions(self, text: Words) -> list[int]:
        """Where the cues stand in ``text`` (word indexes)."""
        return [hit.start for hit in self._index.find(text)]

    def starts(self, text: Words) -> bool:
        """Whether ``text`` begins with a cue ("chợ" in "chợ Đầm")."""
        return any(hit.start == 0 for hit in self._index.find(text))
