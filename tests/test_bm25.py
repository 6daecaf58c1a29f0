"""knowledge/bm25.py scores exactly as rank-bm25's BM25Okapi, the reference it replaces."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi as Reference

from knowledge.bm25 import BM25Okapi
from knowledge.loader import load_knowledge
from knowledge.normalize import words

WORDS = st.sampled_from(["bhyt", "xa", "ho", "ngheo", "tieu", "chi", "17", "nuoc", "sach", "y"])


def assert_same(corpus: list[list[str]], query: list[str]) -> None:
    ours = BM25Okapi(corpus).get_scores(query)
    theirs = Reference(corpus).get_scores(query)
    assert ours == pytest.approx(list(theirs), rel=1e-12, abs=1e-12)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=1, max_size=12),
    st.lists(WORDS | st.just("unseen"), max_size=6),
)
def test_scores_match_the_reference_on_any_corpus(
    corpus: list[list[str]], query: list[str]
) -> None:
    assert_same(corpus, query)


def test_scores_match_the_reference_on_the_plan() -> None:
    kb = load_knowledge()
    corpus = [words(f"{p.context} {p.text}") or ["_"] for p in kb.passages]
    for question in ["ai phụ trách tiêu chí 17.4", "tỷ lệ hộ nghèo", "nước sạch nông thôn"]:
        assert_same(corpus, words(question))


def test_an_empty_corpus_is_refused() -> None:
    with pytest.raises(ValueError):
        BM25Okapi([])
