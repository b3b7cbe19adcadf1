"""Whether the news answers a question at all.

A large archive holds almost every word somewhere, so "the best passage covers a quarter of the
question" is met by loosely related old news. Instead the search gathers :class:`Evidence` that
does not grow with the corpus (how much of the question the best passage holds, whether it holds
the question's most telling concepts, how close its score comes to the most the question could
score, how far it is ahead of the rest) and a small logistic model (:class:`AnswerModel`, fitted by
``tools/fit_answerability.py`` on generated questions) turns it into the probability that the first
passage answers the question. Some kinds of question no news answers however well it matches
(:func:`question_kind`): about the asker, how to do something, live prices, passwords, the next days.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from functools import cache
from importlib import resources

# Kinds of question the news does not answer, whatever it holds. Each is matched on the question with
# quoted titles taken out (《我的暑假》 is a game, not the asker's holiday). Measured on the 18,813
# answerable questions of the QA sets and this project's news questions, they fire on 55: 53 of
# DuReader's web questions ("炒股软件哪个好", "tp link默认密码", "我的世界什么版本可以骑龙", where 我的世界
# is a game), a 明天 inside the name 舒明天皇, and 售价 asked of 1957. News questions never match them.
_QUOTED = re.compile(r"《[^》]*》|「[^」]*」|『[^』]*』|“[^”]*”|\"[^\"]*\"")
_PRESENT = r"(?:today|now|right now|currently|at the moment|this (?:morning|afternoon|evening))"
_PRESENT_ZH = r"(?:今天|现在|目前|当前|实时|此刻)"
_LIVE_EN = r"(?:price|cost|exchange rate|stock|shares?|weather|temperature|forecast)"
_LIVE_ZH = r"(?:价格|股价|汇率|天气|气温|报价)"
KINDS: dict[str, re.Pattern[str]] = {
    # about the asker: their cat, their phone, what they should do
    "personal": re.compile(r"\b(?:my|our)\b|我的|我家|我们家|咱家|我该", re.I),
    # how to do something, recipes, where to go: the web's questions, not the news's
    "how_to": re.compile(
        r"\bhow (?:do|can|should|could) (?:i|you|we)\b|\bhow to\b|\brecipes?\b|\bwhere can i\b|\bwhat should i\b|"
        r"\bthe best (?:way|place|restaurant|recipe)s?\b|(?:怎样|怎么|如何)(?:在家|自制|自己)|哪家[^，,。]{0,6}最|"
        r"哪(?:个|种|款)(?:最)?好|攻略|好吃|好玩", re.I),
    # a value that changes by the minute, asked for now, or what to pay for something
    "live": re.compile(
        rf"\b{_LIVE_EN}\b.*\b{_PRESENT}\b|\b(?:today|current|currently|now)\b.*\b{_LIVE_EN}\b|"
        rf"{_PRESENT_ZH}.*{_LIVE_ZH}|{_LIVE_ZH}.*{_PRESENT_ZH}|(?:售价|票价|门票|卖).{{0,4}}多少|哪里买|哪儿买|在哪(?:里|儿)?买|"
        r"\bwhere (?:can|do) (?:i|you|we) buy\b|\bhow much (?:is|are|does|do) (?:a |an |the )?tickets?\b", re.I),
    # credentials and codes, which no news prints
    "private": re.compile(r"\bpass(?:word|code)s?\b|\bdoor codes?\b|\bpin (?:code|number)s?\b|密码|验证码|门禁", re.I),
    # the next few days: not yet news
    "soon": re.compile(r"\btomorrow\b|\bnext (?:week|weekend)\b|\bthis weekend\b|明天|明日|后天|下周|下星期|这周末|本周末", re.I),
}


# A question asking how to do something or what something costs now is answered only when the model
# finds an answer more likely than not (rather than merely above the threshold): web pages may well
# say which phone is best; news does not. Questions about the asker or asking for a password never are.
KIND_CONFIDENCE = 0.5
UNLIKELY_KINDS = frozenset({"how_to", "live"})


def question_kind(question: str) -> str | None:
    """The kind of question (a key of :data:`KINDS`) that the news cannot answer, or None."""
    text = _QUOTED.sub(" ", question)
    return next((kind for kind, pattern in KINDS.items() if pattern.search(text)), None)


@dataclass(frozen=True)
class Evidence:
    """What the ranking says about whether the first passage answers the question (all in 0..1
    except ``concepts``)."""

    coverage: float  # share of the question (by information) the first passage holds
    telling: float  # share of the question's two most telling known concepts the first passage holds
    guessed: float  # share of what the first passage holds that was found by sound or pinyin, not a dictionary
    unknown: float  # share of the question's words that neither the news nor the dictionaries know (PewDiePie)
    strength: float  # the first passage's BM25 over the most the question's words could score, those the news
    #                  lacks counted as words of one passage (where BM25
    #                  cannot rank, every passage holding every term of a tiny corpus: its share of the question)
    margin: float  # how far the first passage's ranking score is ahead of the second's, as a share of it
    agreement: float  # the next four passages' mean coverage, as a share of the first's
    english: float  # 1: the question has no Chinese in it
    concepts: float  # log(1 + the number of concepts the news knows)
    passages: float  # log10 of the number of passages: in one article every passage shares its topic

    def to_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in asdict(self).items()}


FEATURES = tuple(f.name for f in fields(Evidence))
# An English question reaches Chinese news through a dictionary, so the same share of it matched means
# something else: these features get a second weight for English questions ("english*coverage").
ENGLISH_SLOPES = ("coverage", "strength", "telling", "agreement", "margin", "concepts")
TERMS = FEATURES + tuple(f"english*{name}" for name in ENGLISH_SLOPES)


def terms(values: dict[str, float]) -> list[float]:
    """The model's inputs, in :data:`TERMS` order, from an :class:`Evidence`'s values."""
    return [math.prod(values[part] for part in term.split("*")) for term in TERMS]


@dataclass(frozen=True)
class AnswerModel:
    """Logistic regression over standardised :data:`TERMS` of the :class:`Evidence`; ``threshold`` is
    the probability below which the news is taken to have no answer (the fit chooses it; a setting
    may override it)."""

    weights: dict[str, float]
    bias: float
    means: dict[str, float]
    scales: dict[str, float]
    threshold: float

    def probability(self, evidence: Evidence) -> float:
        values = dict(zip(TERMS, terms(asdict(evidence))))
        z = self.bias + sum(w * (values[name] - self.means[name]) / self.scales[name] for name, w in self.weights.items())
        return 1 / (1 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


@cache
def shipped_model() -> AnswerModel:
    """The model fitted by ``tools/fit_answerability.py`` and shipped with the package."""
    text = resources.files("index.data").joinpath("answerability.json").read_text(encoding="utf-8")
    return AnswerModel(**json.loads(text))
