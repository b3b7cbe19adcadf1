"""newsbot's retrieval engine: news files in, cited BM25-ranked passages out."""

from index.engine import Engine
from index.search import Answer, Citation, Hit, QuestionError

__all__ = ["Answer", "Citation", "Engine", "Hit", "QuestionError"]
