"""all-MiniLM-L6-v2 sentence embeddings on CPU: the ONNX export run by onnxruntime, its
tokenizer by `tokenizers`, mean pooling over the attention mask and L2 normalization (what
sentence-transformers does for this model), so a dot product is the cosine similarity.

The files are read from a local directory (devstack's install step unpacks them from the Maven
Central jar); nothing is fetched at run time.
"""

from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
DIMENSIONS = 384
# Title and the start of the body carry what a person reads to relate two records; 128 word
# pieces keep a short commit whole and cost ~3x less than the model's 256 maximum.
MAX_TOKENS = 128


class ModelError(RuntimeError):
    """The model files are missing or unreadable."""


class Embedder:
    def __init__(self, model_dir: Path, *, threads: int = 1, max_tokens: int = MAX_TOKENS) -> None:
        model_path, tokenizer_path = model_dir / MODEL_FILE, model_dir / TOKENIZER_FILE
        for path in (model_path, tokenizer_path):
            if not path.is_file():
                raise ModelError(f"embedding model file missing: {path}")
        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime and tokenizers raise their own base types
            raise ModelError(f"embedding model unreadable in {model_dir}: {exc}") from exc
        self.tokenizer.enable_truncation(max_length=max_tokens)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - not a secret
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
