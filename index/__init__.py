"""newsbot's retrieval engine: news files in, cited BM25-ranked passages out."""

from index.build import EmptyCorpusError
from index.engine import Engine, IndexUnavailable
from index.search import Answer, Citation, Hit, QuestionError

__all__ = ["Answer", "Citation", "EmptyCorpusError", "Engine", "Hit", "IndexUnavailable", "QuestionError"]
