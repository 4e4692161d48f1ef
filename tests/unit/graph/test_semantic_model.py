"""The embedding model loads from installed files with the network off, and says clearly when
its files are missing or broken."""

import socket

import numpy as np
import pytest
from kushim_graph.semantic.model import DIMENSIONS, Embedder, ModelError

from devstack.paths import embedding_model_dir


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_the_model_loads_and_embeds_with_the_network_off(no_network):
    embedder = Embedder(embedding_model_dir())
    vectors = embedder.embed([
        "Export the calendar as an ICS file",
        "Calendar export to ics files",
        "Upgrade the PostgreSQL driver",
    ])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    same, other = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert same > 0.6 > other
    assert embedder.embed([]).shape == (0, DIMENSIONS)


def test_missing_model_files_are_named(tmp_path):
    with pytest.raises(ModelError, match="model.onnx"):
        Embedder(tmp_path)


def test_a_broken_model_file_is_reported_not_raised_raw(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    (tmp_path / "tokenizer.json").write_text("{}")
    with pytest.raises(ModelError, match="unreadable"):
        Embedder(tmp_path)
