"""From a question to a BM25 query: what it asks for (concepts) and the term groups that score it.

Chinese text goes through the analyzer: each jieba word is a concept, and every token (words and
character bigrams) scores. Latin words are looked up as they are (DeepMind, CEO), through CC-CEDICT
(leads → 带领/领导/带队) and, for names, through pinyin (Tongyi → 通义; Lin Junyang → 林俊, 俊旸).
With ``structured`` on, the translations of one English word are one synonym group (Pirkola), so a
word with ten translations does not outweigh a word with one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from index.analysis import Analyzer, is_cjk, stop_words
from index.bm25 import PostingLists, WeightedTerms, group_df
from index.crosslingual import MAX_PHRASE_WORDS, english_key, english_sounds, name_key, name_keys, split_latin, split_pinyin
from index.store import StringTable, TermMap

MAX_NAME_SYLLABLES = 4
COMMON_MIN_PASSAGES = 10_000  # a list shorter than this is read in full in well under a millisecond


@dataclass(frozen=True)
class QueryOptions:
    """Query-time switches: each can be turned off to measure what it brings."""

    lexicon: bool = True
    pinyin: bool = True
    stemming: bool = True
    structured: bool = True
    bigram_weight: float = 0.5  # query weight of the character bigrams beside the words
    precise_questions: bool = True  # questions cut into whole words; passages at search granularity
    unknown_by_bigrams: bool = True  # a Chinese word the news lacks stands for its bigrams, at full weight
    names: bool = True  # a capitalised word or an acronym reads as a name first (Canada → 加拿大, not pinyin; US → 美国)
    phrases_first: bool = True  # a dictionary phrase's words count through the phrase alone (prime minister → 总理)
    sounds: bool = True  # a foreign name the dictionaries lack is matched by sound to the news's transliterations
    common_share: float = 0.02  # an English word whose Chinese forms fill more of the passages than this only
    #                             adds to passages the question's rarer words find (0: every word finds passages)


@dataclass
class Concept:
    """One thing the question asks for, and the term groups any of which stands for it."""

    text: str
    groups: list[tuple[int, ...]] = field(default_factory=list)
    information: float = 0.0
    known: bool = True  # False: a word neither the news nor the dictionary knows; it cannot count against an answer
    guessed: bool = False  # found by how it sounds or reads as pinyin, not by a dictionary or as written


@dataclass
class Query:
    concepts: list[Concept]
    scoring: WeightedTerms


class QueryBuilder:
    """Builds queries against one index's vocabulary and its stored lexicon and pinyin maps."""

    def __init__(self, analyzer: Analyzer, vocabulary: StringTable, postings: PostingLists, lexicon: TermMap,
                 names: TermMap, pinyin: TermMap, sounds: TermMap, syllables: frozenset[str],
                 options: QueryOptions = QueryOptions()) -> None:
        self.analyzer = analyzer
        self.vocabulary = vocabulary
        self.postings = postings
        self.lexicon = lexicon
        self.names = names
        self.pinyin = pinyin
        self.sounds = sounds
        self.syllables = syllables
        self.options = options

    def information(self, df: int) -> float:
        """How telling a term with document frequency ``df`` is: a smoothed idf that stays positive
        (unlike BM25Okapi's, which goes negative for terms in over half of a small corpus)."""
        n = self.postings.n_docs
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def concept(self, text: str, groups: list[tuple[int, ...]], known: bool = True, guessed: bool = False) -> Concept:
        groups = [g for g in groups if g]
        information = max((self.information(group_df(self.postings, g)) for g in groups), default=self.information(0))
        return Concept(text, groups, information, known or bool(groups), guessed and bool(groups))

    def build(self, question: str) -> Query:
        concepts: list[Concept] = []
        extra: list[tuple[int, ...]] = []
        chinese, latin = split_latin(question)
        words, bigrams = self.analyzer.analyze(chinese, precise=self.options.precise_questions)
        for word in words:
            ids = self._ids([word])
            if not ids and self.options.unknown_by_bigrams and is_cjk(word) and len(word) > 2:
                concepts.append(self.concept(word, [self._ids([b]) for b in map(str.__add__, word, word[1:])]))
            else:
                concepts.append(self.concept(word, [ids]))
        in_concepts = {g for c in concepts for g in c.groups}
        extra.extend(g for g in (self._ids([b]) for b in bigrams) if g not in in_concepts)
        chinese_groups = sum(len(c.groups) for c in concepts)
        concepts.extend(self._english(latin))
        groups = [g for c in concepts for g in c.groups]
        common = {i for i, g in enumerate(groups) if i >= chinese_groups and self._common(g)}
        if not self.options.structured:  # each translation a term of its own, common where its word is
            split = [(i, (t,)) for i, g in enumerate(groups) for t in g]
            common = {j for j, (i, _) in enumerate(split) if i in common}
            groups = [g for _, g in split]
        boosts = [1.0] * len(groups)
        bigram_groups = [g for g in extra if g]
        return Query(concepts, WeightedTerms(groups + bigram_groups, boosts + [self.options.bigram_weight] * len(bigram_groups),
                                             frozenset(common)))

    def _common(self, group: tuple[int, ...]) -> bool:
        """Whether an English word's Chinese forms are so common that reading them in full costs more
        than they tell: in over ``common_share`` of the passages, and many passages at that."""
        df = group_df(self.postings, group)
        return bool(self.options.common_share) and df > max(self.options.common_share * self.postings.n_docs, COMMON_MIN_PASSAGES)

    def tokens_query(self, tokens: list[str]) -> WeightedTerms:
        """rank-bm25's query for already analysed tokens: each occurrence of a token scores once."""
        counts: dict[tuple[int, ...], int] = {}
        for token in tokens:
            ids = self._ids([token])
            if ids:
                counts[ids] = counts.get(ids, 0) + 1
        return WeightedTerms(list(counts), [float(c) for c in counts.values()])

    def _ids(self, terms: list[str]) -> tuple[int, ...]:
        found = (self.vocabulary.id(t) for t in terms)
        return tuple(sorted({i for i in found if i is not None}))

    def _english(self, words: list[str]) -> list[Concept]:
        covered, concepts = self._phrases(words)
        run: list[str] = []  # consecutive words that read as pinyin: a Chinese name or term
        previous = -2
        for i, word in enumerate(words):
            if i in covered or (word.lower() in stop_words() and not (self.options.names and _acronym(word))):
                continue
            literal = self._ids([word.lower()])
            translations, named = self._translations(word, i)
            pinyin = not literal and not named and self._reads_as_pinyin(word, i, translations)
            if run and (not pinyin or previous != i - 1):
                concepts.append(self._name(run))
                run = []
            previous = i
            if pinyin:  # a name: its English translations would be homographs (Chang → change)
                run.append(word)
                continue
            group = tuple(sorted(set(literal) | set(translations or ())))
            sounded = not group and _inside_sentence(i, word) and not word.isupper()
            if sounded:
                group = self._sounding(word)
            concepts.append(self.concept(word, [group], known=bool(literal) or translations is not None or bool(group), guessed=sounded))
        if run:
            concepts.append(self._name(run))
        return concepts

    def _translations(self, word: str, position: int) -> tuple[tuple[int, ...] | None, bool]:
        """The word's translations (None: no dictionary knows it), and whether they include a
        name's that the news writes in more than one character, which then outranks a pinyin
        reading. An acronym is read as a name (US → 美国), a capitalised word inside a sentence
        as a name and a word (Canada, Islands → 群岛), any other word as a word first (us → 我们).
        Names are looked up as written (Manning is not man), words by their stem."""
        if not self.options.lexicon:
            return None, False
        common = self.lexicon.get(english_key(word) if self.options.stemming else word.lower())
        name = next((found for key in name_keys(word) if (found := self.names.get(key)) is not None), None)
        if not self.options.names:
            return (None if common is None and name is None else tuple(sorted({*(common or ()), *(name or ())}))), False
        if name and _acronym(word):  # US → 美国, not 我们
            return name, True
        if name and _inside_sentence(position, word):  # Canada, Islands: the name and the word
            return tuple(sorted({*name, *(common or ())})), any(len(self.vocabulary[t]) > 1 for t in name)
        return (common, False) if common or name is None else (name, False)

    def _phrases(self, words: list[str]) -> tuple[set[int], list[Concept]]:
        """Dictionary phrases in the question, longest first (secretary of state → 国务卿, before
        secretary and state): the words of a phrase the news has count through it alone. A phrase
        starts and ends with a content word (not "used for", "land in")."""
        if not self.options.lexicon:
            return set(), []
        covered: set[int] = set()
        found = []
        keys = [english_key(w) for w in words]
        starts = [self.lexicon.starts_phrases(key) or self.names.starts_phrases(name_key([word]))
                  for word, key in zip(words, keys)]  # one look-up rules out every phrase a word cannot start
        for size in range(MAX_PHRASE_WORDS, 1, -1):
            for start in range(len(words) - size + 1):
                span = range(start, start + size)
                if not starts[start] or covered.intersection(span) or {words[start].lower(), words[start + size - 1].lower()} & stop_words():
                    continue
                as_word = self.lexicon.get(" ".join(keys[start : start + size]))
                as_name = self.names.get(name_key(words[start : start + size]))
                terms = (as_name or as_word) if words[start][:1].isupper() else (as_word or as_name)
                if terms:
                    if self.options.phrases_first:
                        covered.update(span)
                    found.append(self.concept(" ".join(words[start : start + size]), [terms]))
        return covered, found

    def _reads_as_pinyin(self, word: str, position: int, translations: tuple[int, ...] | None) -> bool:
        """Pinyin is tried for words English does not know, and for capitalised words inside a sentence."""
        if not self.options.pinyin or split_pinyin(word, self.syllables) is None:
            return False
        return translations is None or (position > 0 and word[:1].isupper())

    def _name(self, run: list[str]) -> Concept:
        """A name or term written in pinyin, as one synonym group: the Chinese term spelt by the whole
        run (阿里巴巴 for Alibaba), else every 2-4 syllable stretch of it that is a term (林俊, 俊旸 for
        Lin Junyang); two words are tried in both orders (Ruoming Pang → 庞若鸣)."""
        orders = [run] if len(run) != 2 else [run, run[::-1]]
        whole: set[int] = set()
        parts: set[int] = set()
        for order in orders:
            syllables = [s for word in order for s in (split_pinyin(word, self.syllables) or [])]
            for size in range(2, min(len(syllables), MAX_NAME_SYLLABLES) + 1):
                for start in range(len(syllables) - size + 1):
                    terms = self.pinyin.get("".join(syllables[start : start + size])) or ()
                    (whole if size == len(syllables) else parts).update(terms)
        found = whole or parts
        if not found and len(run) == 1:
            found = set(self._sounding(run[0]))
        return self.concept(" ".join(run), [tuple(sorted(found))], guessed=True)

    def _sounding(self, word: str) -> tuple[int, ...]:
        """A foreign name the dictionaries lack, by sound: the news's transliterations whose
        consonants match its spelling's (Kearney → 科尔尼, Rousseff → 罗塞夫)."""
        if not self.options.sounds or len(word) < 3:
            return ()
        return tuple(sorted({t for key in english_sounds(word) for t in self.sounds.get(key) or ()}))


def _inside_sentence(position: int, word: str) -> bool:
    """A capitalised word after the first: a name, as English writes them."""
    return position > 0 and word[:1].isupper()


def _acronym(word: str) -> bool:
    """US, UK, NFL: a name, even where the lower-case word is a function word (us)."""
    return len(word) > 1 and word.isupper()
